-- metadata.dataset_rows (table macro)
--
-- Purpose: one page of a table or view, through query_table, so tables and
--   views need no special case. Plain table scans keep insertion order; pass
--   keys from metadata.datasets (SQL users: see the README for looking up a
--   key by dataset name with SET VARIABLE).
-- Parameters:
--   table_key   the relation to read, e.g. 'core.goids' (quote parts as in SQL)
--   row_limit   at most this many rows (default 100; pass by name before DuckDB 1.4)
--   row_offset  rows to skip first (default 0)
-- Example:
--   SELECT * FROM metadata.dataset_rows('core.goids', row_limit := 5, row_offset := 10);
CREATE OR REPLACE MACRO metadata.dataset_rows(table_key, row_limit := 100, row_offset := 0) AS TABLE
    SELECT *
    FROM query_table(table_key)
    LIMIT row_limit
    OFFSET row_offset;
