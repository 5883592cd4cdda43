-- metadata.table_exists (macro)
--
-- Purpose: a parameter named like a column of duckdb_tables().
-- Parameters:
--   table_name  the table
-- Example:
--   SELECT metadata.table_exists('t');
CREATE OR REPLACE MACRO metadata.table_exists(table_name) AS (
    EXISTS (
        SELECT 1
        FROM duckdb_tables() AS t
        WHERE t.table_name = table_name
    )
);
