-- metadata.scan_is_ordered (macro)
--
-- Purpose: TRUE when a plain scan of the relation returns rows in a stable
--   order: the key names a base table and preserve_insertion_order is on
--   (DuckDB then keeps insertion order). Views, joins and aggregates promise
--   no order, so dataset_rows sorts them (row_order 'auto').
-- Parameters:
--   key_text  the relation's table key, e.g. 'core.goids'
-- Example:
--   SELECT metadata.scan_is_ordered('core.goids');
CREATE OR REPLACE MACRO metadata.scan_is_ordered(key_text) AS (
    current_setting('preserve_insertion_order') AND EXISTS (
        SELECT 1
        FROM duckdb_tables() AS ducksets_t
        WHERE lower(ducksets_t.database_name)
                = lower(coalesce(metadata.split_table_key(key_text).catalog_name, current_database()))
            AND lower(ducksets_t.schema_name) = lower(metadata.split_table_key(key_text).schema_name)
            AND lower(ducksets_t.table_name) = lower(metadata.split_table_key(key_text).relation_name)
    )
);
