-- metadata.items (row)
--
-- Purpose: DML other than the install upsert.
-- Parameters: none.
-- Example:
--   SELECT count(*) FROM metadata.items;
DELETE FROM metadata.items;
