-- metadata.find_item (macro)
--
-- Purpose: a parameter named like a column it reads: `i.name = name` is always true.
-- Parameters:
--   name  the item name
-- Example:
--   SELECT metadata.find_item('x');
CREATE OR REPLACE MACRO metadata.find_item(name) AS (
    SELECT i.item_id
    FROM metadata.items AS i
    WHERE i.name = name
);
