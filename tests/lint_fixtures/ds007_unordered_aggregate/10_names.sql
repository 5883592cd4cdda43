-- metadata.table_names (macro)
--
-- Purpose: builds a list of names in no particular order.
-- Parameters: none.
-- Example:
--   SELECT metadata.table_names();
CREATE OR REPLACE MACRO metadata.table_names() AS (
    SELECT string_agg(t.table_name, ', ')
    FROM duckdb_tables() AS t
);
