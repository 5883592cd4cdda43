-- metadata.scan_is_ordered (macro)
--
-- Purpose: TRUE when a plain scan of the relation returns rows in a stable
--   order: the key names a base table and preserve_insertion_order is on
--   (DuckDB then keeps insertion order). Views, joins and aggregates promise
--   no order, so a reader that pages them must sort (dataset_rows' default
--   row_order 'all'). Names compare as DuckDB compares them
--   (metadata.fold_name: ASCII letters ignore case, nothing else).
-- Parameters:
--   key_text  the relation's table key, e.g. 'core.goids'
-- Example:
--   SELECT metadata.scan_is_ordered('core.goids');
CREATE OR REPLACE MACRO metadata.scan_is_ordered(key_text) AS (
    current_setting('preserve_insertion_order') AND EXISTS (
        SELECT 1
        FROM duckdb_tables() AS ducksets_t,
            (SELECT metadata.split_table_key(key_text) AS key_parts) AS ducksets_k
        WHERE metadata.fold_name(ducksets_t.database_name)
                = metadata.fold_name(coalesce(ducksets_k.key_parts.catalog_name, current_database()))
            AND metadata.fold_name(ducksets_t.schema_name) = metadata.fold_name(ducksets_k.key_parts.schema_name)
            AND metadata.fold_name(ducksets_t.table_name) = metadata.fold_name(ducksets_k.key_parts.relation_name)
    )
);
