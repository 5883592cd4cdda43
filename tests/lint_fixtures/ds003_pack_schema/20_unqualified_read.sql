-- metadata.item_count (macro)
--
-- Purpose: reads a pack table without naming its schema.
-- Parameters: none.
-- Example:
--   SELECT metadata.item_count();
CREATE OR REPLACE MACRO metadata.item_count() AS (
    SELECT count(*)
    FROM items
);
