-- metadata.items (table)
--
-- Purpose: a table created without IF NOT EXISTS.
-- Parameters: none.
-- Example:
--   SELECT * FROM metadata.items;
CREATE TABLE metadata.items (
    item_id INTEGER PRIMARY KEY
);
