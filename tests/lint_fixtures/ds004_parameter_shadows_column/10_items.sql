-- metadata.items (table)
--
-- Purpose: a pack table with a column called name.
-- Parameters: none.
-- Example:
--   SELECT * FROM metadata.items;
CREATE TABLE IF NOT EXISTS metadata.items (
    item_id INTEGER PRIMARY KEY,
    name    TEXT NOT NULL
);
