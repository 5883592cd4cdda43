-- metadata.relations (table macro)
--
-- Purpose: every table and view the database can see, one row each, with its
--   names folded as DuckDB compares them (metadata.fold_name), so a key can be
--   matched to the relation it names. The one place the pack asks which
--   relations exist: catalog_drift and scan_is_ordered read it. Columns:
--   database_name, schema_name, relation_name  as DuckDB holds them
--   is_view         TRUE for a view, FALSE for a base table
--   is_pack_object  TRUE for the pack's own tables (comment 'ducksets: ...')
--   database_fold, schema_fold, relation_fold  the names folded
-- Parameters: none.
-- Example:
--   SELECT relation_name, is_view FROM metadata.relations() WHERE schema_fold = 'core';
CREATE OR REPLACE MACRO metadata.relations() AS TABLE
    SELECT
        ducksets_t.database_name,
        ducksets_t.schema_name,
        ducksets_t.table_name AS relation_name,
        FALSE AS is_view,
        coalesce(ducksets_t.comment, '') LIKE 'ducksets:%' AS is_pack_object,
        metadata.fold_name(ducksets_t.database_name) AS database_fold,
        metadata.fold_name(ducksets_t.schema_name) AS schema_fold,
        metadata.fold_name(ducksets_t.table_name) AS relation_fold
    FROM duckdb_tables() AS ducksets_t
    WHERE NOT ducksets_t.internal
    UNION ALL
    SELECT
        ducksets_v.database_name,
        ducksets_v.schema_name,
        ducksets_v.view_name,
        TRUE,
        coalesce(ducksets_v.comment, '') LIKE 'ducksets:%',
        metadata.fold_name(ducksets_v.database_name),
        metadata.fold_name(ducksets_v.schema_name),
        metadata.fold_name(ducksets_v.view_name)
    FROM duckdb_views() AS ducksets_v
    WHERE NOT ducksets_v.internal;
