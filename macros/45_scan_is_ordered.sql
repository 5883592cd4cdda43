-- metadata.scan_is_ordered (macro)
--
-- Purpose: TRUE when a plain scan of the relation returns rows in a stable
--   order: the key names a base table and preserve_insertion_order is on
--   (DuckDB then keeps insertion order). Views, joins and aggregates promise
--   no order, so a reader that pages them must sort (dataset_rows' default
--   row_order 'all'). The relation is looked up in metadata.relations(), by
--   names folded as DuckDB compares them (ASCII letters ignore case only).
-- Parameters:
--   key_text  the relation's table key, e.g. 'core.goids'
-- Example:
--   SELECT metadata.scan_is_ordered('core.goids');
CREATE OR REPLACE MACRO metadata.scan_is_ordered(key_text) AS (
    current_setting('preserve_insertion_order') AND EXISTS (
        SELECT 1
        FROM metadata.relations() AS ducksets_r,
            (SELECT metadata.split_table_key(key_text) AS key_parts) AS ducksets_k
        WHERE NOT ducksets_r.is_view
            AND ducksets_r.database_fold
                = metadata.fold_name(coalesce(ducksets_k.key_parts.catalog_name, current_database()))
            AND ducksets_r.schema_fold = metadata.fold_name(ducksets_k.key_parts.schema_name)
            AND ducksets_r.relation_fold = metadata.fold_name(ducksets_k.key_parts.relation_name)
    )
);
