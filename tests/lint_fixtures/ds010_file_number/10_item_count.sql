-- metadata.item_count (macro)
--
-- Purpose: a second file numbered 10, beside 10_items.sql.
-- Parameters: none.
-- Example:
--   SELECT metadata.item_count();
CREATE OR REPLACE MACRO metadata.item_count() AS (
    SELECT count(*) FROM metadata.items
);
