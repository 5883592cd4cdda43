-- migration 0004: rows deleted
DELETE FROM metadata.items WHERE item_id < 0;
