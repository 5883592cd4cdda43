-- metadata.table_exists (macro)
--
-- Purpose: TRUE when a table of that name exists; its alias t can capture t.name arguments.
-- Parameters:
--   tbl_name  the table name
-- Example:
--   SELECT metadata.table_exists('x');
CREATE OR REPLACE MACRO metadata.table_exists(tbl_name) AS (
    EXISTS (
        SELECT 1
        FROM duckdb_tables() AS t
        WHERE t.table_name = tbl_name
    )
);
