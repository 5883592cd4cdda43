-- metadata.items (table)
--
-- Purpose: a pack table the macros below read.
-- Parameters: none.
-- Example:
--   SELECT * FROM metadata.items;
CREATE TABLE IF NOT EXISTS metadata.items (
    item_id INTEGER PRIMARY KEY
);
