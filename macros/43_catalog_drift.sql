-- metadata.catalog_drift (table macro)
--
-- Purpose: where metadata.datasets and the database disagree, one row each;
--   empty when in sync. Columns: table_key, drift, detail. Drift codes:
--     invalid_key            the key is not schema.name or database.schema.name
--     missing_relation       no table or view has that key
--     kind_mismatch          is_view disagrees with what the relation is
--     unregistered_relation  a table or view in a schema the catalog uses,
--                            with no catalog row (its canonical key is shown)
--     missing_column         a column declared in metadata.dataset_columns is absent
--     unexpected_column      the table has a column its declaration lacks
--     type_mismatch          a declared column has another type in the database
--   Two-part keys name a schema in the current default database, as
--   query_table resolves them; names compare case-insensitively, as in DuckDB.
--   Pack objects (comment 'ducksets: ...') are never unregistered.
-- Parameters: none.
-- Example:
--   SELECT * FROM metadata.catalog_drift();
CREATE OR REPLACE MACRO metadata.catalog_drift() AS TABLE
    WITH registered AS (
        SELECT
            d.table_key,
            d.is_view,
            metadata.split_table_key(d.table_key) AS key_parts
        FROM metadata.datasets AS d
    ),
    resolved AS (
        SELECT
            r.table_key,
            r.is_view,
            lower(coalesce(r.key_parts.catalog_name, current_database())) AS database_lc,
            lower(r.key_parts.schema_name) AS schema_lc,
            lower(r.key_parts.relation_name) AS relation_lc
        FROM registered AS r
        WHERE r.key_parts IS NOT NULL
    ),
    relations AS (
        SELECT
            t.database_name,
            t.schema_name,
            t.table_name AS relation_name,
            FALSE AS relation_is_view,
            coalesce(t.comment, '') LIKE 'ducksets:%' AS is_pack_object
        FROM duckdb_tables() AS t
        WHERE NOT t.internal
        UNION ALL
        SELECT
            v.database_name,
            v.schema_name,
            v.view_name,
            TRUE,
            coalesce(v.comment, '') LIKE 'ducksets:%'
        FROM duckdb_views() AS v
        WHERE NOT v.internal
    ),
    matched AS (
        SELECT
            res.table_key,
            res.is_view,
            rel.relation_is_view,
            rel.relation_name IS NOT NULL AS relation_found
        FROM resolved AS res
        LEFT JOIN relations AS rel
            ON lower(rel.database_name) = res.database_lc
            AND lower(rel.schema_name) = res.schema_lc
            AND lower(rel.relation_name) = res.relation_lc
    ),
    declared AS (
        SELECT
            res.table_key,
            res.database_lc,
            res.schema_lc,
            res.relation_lc,
            c.column_name,
            c.declared_type
        FROM resolved AS res
        JOIN metadata.dataset_columns AS c
            ON c.table_key = res.table_key
        JOIN matched AS m
            ON m.table_key = res.table_key
            AND m.relation_found
    ),
    actual AS (
        SELECT
            lower(col.database_name) AS database_lc,
            lower(col.schema_name) AS schema_lc,
            lower(col.table_name) AS relation_lc,
            col.column_name,
            col.data_type
        FROM duckdb_columns() AS col
        WHERE NOT col.internal
    ),
    declared_vs_actual AS (
        SELECT
            d.table_key,
            d.column_name,
            d.declared_type,
            a.data_type
        FROM declared AS d
        LEFT JOIN actual AS a
            ON a.database_lc = d.database_lc
            AND a.schema_lc = d.schema_lc
            AND a.relation_lc = d.relation_lc
            AND lower(a.column_name) = lower(d.column_name)
    ),
    undeclared AS (
        SELECT DISTINCT
            d.table_key,
            a.column_name,
            a.data_type
        FROM declared AS d
        JOIN actual AS a
            ON a.database_lc = d.database_lc
            AND a.schema_lc = d.schema_lc
            AND a.relation_lc = d.relation_lc
        WHERE NOT EXISTS (
            SELECT 1
            FROM declared AS d2
            WHERE d2.table_key = d.table_key
                AND lower(d2.column_name) = lower(a.column_name)
        )
    )
    SELECT
        r.table_key,
        'invalid_key' AS drift,
        'table_key is not schema.name or database.schema.name (quote parts with "double quotes")' AS detail
    FROM registered AS r
    WHERE r.key_parts IS NULL
    UNION ALL
    SELECT
        m.table_key,
        'missing_relation',
        'no table or view ' || m.table_key || ' exists'
    FROM matched AS m
    WHERE NOT m.relation_found
    UNION ALL
    SELECT
        m.table_key,
        'kind_mismatch',
        CASE
            WHEN m.is_view THEN 'registered as a view (is_view = TRUE) but it is a table'
            ELSE 'registered as a table (is_view = FALSE) but it is a view'
        END
    FROM matched AS m
    WHERE m.relation_found
        AND m.is_view <> m.relation_is_view
    UNION ALL
    SELECT
        dva.table_key,
        'missing_column',
        'column ' || metadata.format_ident(dva.column_name) || ' (' || dva.declared_type
            || ') is declared but the table has no such column'
    FROM declared_vs_actual AS dva
    WHERE dva.data_type IS NULL
    UNION ALL
    SELECT
        dva.table_key,
        'type_mismatch',
        'column ' || metadata.format_ident(dva.column_name) || ' is declared ' || dva.declared_type
            || ' but is ' || dva.data_type
    FROM declared_vs_actual AS dva
    WHERE dva.data_type IS NOT NULL
        AND upper(dva.data_type) <> upper(dva.declared_type)
    UNION ALL
    SELECT
        u.table_key,
        'unexpected_column',
        'column ' || metadata.format_ident(u.column_name) || ' (' || u.data_type
            || ') is in the table but not declared'
    FROM undeclared AS u
    UNION ALL
    SELECT
        concat_ws(
            '.',
            CASE
                WHEN rel.database_name <> current_database()
                    THEN metadata.format_ident(rel.database_name)
            END,
            metadata.format_ident(rel.schema_name),
            metadata.format_ident(rel.relation_name)
        ),
        'unregistered_relation',
        CASE WHEN rel.relation_is_view THEN 'view' ELSE 'table' END
            || ' in a catalog schema has no row in metadata.datasets'
    FROM relations AS rel
    WHERE NOT rel.is_pack_object
        AND (lower(rel.database_name), lower(rel.schema_name)) IN (
            SELECT (res.database_lc, res.schema_lc)
            FROM resolved AS res
        )
        AND NOT EXISTS (
            SELECT 1
            FROM resolved AS res
            WHERE res.database_lc = lower(rel.database_name)
                AND res.schema_lc = lower(rel.schema_name)
                AND res.relation_lc = lower(rel.relation_name)
        )
    ORDER BY drift, table_key, detail;
