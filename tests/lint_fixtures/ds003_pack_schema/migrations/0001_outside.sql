-- migration 0001: statements on tables outside the pack schema
UPDATE main.items SET item_id = 0 WHERE item_id IS NULL;
COMMENT ON COLUMN items.item_id IS 'ducksets fixture: no schema named';
