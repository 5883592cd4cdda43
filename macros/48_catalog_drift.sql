-- metadata.catalog_drift (table macro)
--
-- Purpose: where metadata.datasets and the database disagree, one row each;
--   empty when in sync. Columns: table_key, drift, detail. Drift codes:
--     invalid_key            the key is not schema.name or database.schema.name,
--                            or starts with a bare keyword DuckDB refuses there
--                            (select.t, join.t: write "select".t)
--     missing_relation       no table or view has that key
--     kind_mismatch          is_view disagrees with what the relation is
--     unregistered_relation  a table or view in a schema the catalog uses,
--                            with no catalog row (its canonical key is shown)
--     missing_column         a column declared in metadata.dataset_columns is absent
--     unexpected_column      the table has a column its declaration lacks
--     type_mismatch          a declared column has another type in the database
--     duplicate_key          several rows whose table_key names one relation
--                            (or, for a key that names none, the same text);
--                            one row per key text, the detail lists them all
--     duplicate_name         several rows with one dataset name; one row per
--                            key text holding it, the detail lists them all
--   Catalogs without constraints (DuckLake) can hold duplicates that SQL
--   writes let in; Python writes check both inside their transaction.
--   Two-part keys name a schema in the current default database, as
--   query_table resolves them. Names compare as DuckDB compares them, folded
--   by metadata.fold_name: ASCII letters ignore case, nothing else does ("Ä"
--   and "ä" are two relations). The keyword rule is the one Python's
--   parse_table_key applies (ducksets._names): metadata.refused_keywords,
--   the keywords DuckDB's parser refuses before a dot, read once per call.
--   Relations come from metadata.relations(); pack objects (comment
--   'ducksets: ...') are never unregistered.
-- Parameters: none.
-- Example:
--   SELECT * FROM metadata.catalog_drift();
CREATE OR REPLACE MACRO metadata.catalog_drift() AS TABLE
    WITH ducksets_refused_words AS MATERIALIZED (
        SELECT ducksets_kw.keyword_name
        FROM metadata.refused_keywords() AS ducksets_kw
    ),
    ducksets_split_keys AS (
        SELECT
            ducksets_d.table_key,
            ducksets_d.name,
            ducksets_d.is_view,
            metadata.split_table_key(ducksets_d.table_key) AS key_parts
        FROM metadata.datasets AS ducksets_d
    ),
    ducksets_parted AS (
        SELECT
            ducksets_s.table_key,
            ducksets_s.name,
            ducksets_s.is_view,
            ducksets_s.key_parts,
            coalesce(ducksets_s.key_parts.catalog_name, current_database()) AS database_name,
            ducksets_s.key_parts.schema_name AS schema_name,
            ducksets_s.key_parts.relation_name AS relation_name,
            CASE
                WHEN NOT starts_with(ducksets_s.table_key, '"')
                    THEN coalesce(ducksets_s.key_parts.catalog_name, ducksets_s.key_parts.schema_name)
            END AS bare_first_part
        FROM ducksets_split_keys AS ducksets_s
    ),
    ducksets_registered AS MATERIALIZED (
        SELECT
            ducksets_p.table_key,
            ducksets_p.name,
            ducksets_p.is_view,
            ducksets_p.key_parts,
            metadata.fold_name(ducksets_p.database_name) AS database_fold,
            metadata.fold_name(ducksets_p.schema_name) AS schema_fold,
            metadata.fold_name(ducksets_p.relation_name) AS relation_fold,
            metadata.fold_name(ducksets_p.bare_first_part) AS first_word
        FROM ducksets_parted AS ducksets_p
    ),
    ducksets_bare_first_keywords AS (
        SELECT
            ducksets_r.table_key,
            ducksets_r.first_word
        FROM ducksets_registered AS ducksets_r
        WHERE ducksets_r.key_parts IS NOT NULL
            AND ducksets_r.first_word IN (
                SELECT ducksets_w.keyword_name
                FROM ducksets_refused_words AS ducksets_w
            )
    ),
    ducksets_resolved AS (
        SELECT
            ducksets_r.table_key,
            ducksets_r.is_view,
            ducksets_r.database_fold,
            ducksets_r.schema_fold,
            ducksets_r.relation_fold
        FROM ducksets_registered AS ducksets_r
        WHERE ducksets_r.key_parts IS NOT NULL
            AND ducksets_r.table_key NOT IN (
                SELECT ducksets_b.table_key
                FROM ducksets_bare_first_keywords AS ducksets_b
            )
    ),
    -- A key names a relation when it resolves; otherwise only its text identifies it.
    ducksets_key_identity AS (
        SELECT
            ducksets_r.table_key,
            ducksets_r.name,
            CASE
                WHEN ducksets_r.table_key IN (
                    SELECT ducksets_res.table_key
                    FROM ducksets_resolved AS ducksets_res
                )
                    THEN [ducksets_r.database_fold, ducksets_r.schema_fold, ducksets_r.relation_fold]
                ELSE [ducksets_r.table_key]
            END AS identity
        FROM ducksets_registered AS ducksets_r
    ),
    ducksets_duplicate_keys AS (
        SELECT
            ducksets_k.identity,
            count(*) AS row_count,
            string_agg(
                ducksets_k.table_key || ' (name ' || metadata.quote_literal(ducksets_k.name) || ')',
                ', ' ORDER BY ducksets_k.table_key, ducksets_k.name
            ) AS listed
        FROM ducksets_key_identity AS ducksets_k
        GROUP BY ducksets_k.identity
        HAVING count(*) > 1
    ),
    ducksets_duplicate_names AS (
        SELECT
            ducksets_r.name,
            count(*) AS row_count,
            string_agg(ducksets_r.table_key, ', ' ORDER BY ducksets_r.table_key) AS listed
        FROM ducksets_registered AS ducksets_r
        GROUP BY ducksets_r.name
        HAVING count(*) > 1
    ),
    ducksets_relations_folded AS MATERIALIZED (
        SELECT *
        FROM metadata.relations() AS ducksets_rel
    ),
    ducksets_matched AS (
        SELECT
            ducksets_res.table_key,
            ducksets_res.is_view,
            ducksets_rel.is_view AS relation_is_view,
            ducksets_rel.relation_name IS NOT NULL AS relation_found
        FROM ducksets_resolved AS ducksets_res
        LEFT JOIN ducksets_relations_folded AS ducksets_rel
            ON ducksets_rel.database_fold = ducksets_res.database_fold
            AND ducksets_rel.schema_fold = ducksets_res.schema_fold
            AND ducksets_rel.relation_fold = ducksets_res.relation_fold
    ),
    ducksets_declared AS (
        SELECT
            ducksets_res.table_key,
            ducksets_res.database_fold,
            ducksets_res.schema_fold,
            ducksets_res.relation_fold,
            ducksets_c.column_name,
            metadata.fold_name(ducksets_c.column_name) AS column_fold,
            ducksets_c.declared_type
        FROM ducksets_resolved AS ducksets_res
        JOIN metadata.dataset_columns AS ducksets_c
            ON ducksets_c.table_key = ducksets_res.table_key
        JOIN ducksets_matched AS ducksets_m
            ON ducksets_m.table_key = ducksets_res.table_key
            AND ducksets_m.relation_found
    ),
    ducksets_actual AS (
        SELECT
            metadata.fold_name(ducksets_col.database_name) AS database_fold,
            metadata.fold_name(ducksets_col.schema_name) AS schema_fold,
            metadata.fold_name(ducksets_col.table_name) AS relation_fold,
            ducksets_col.column_name,
            metadata.fold_name(ducksets_col.column_name) AS column_fold,
            ducksets_col.data_type
        FROM duckdb_columns() AS ducksets_col
        WHERE NOT ducksets_col.internal
    ),
    ducksets_declared_vs_actual AS (
        SELECT
            ducksets_d.table_key,
            ducksets_d.column_name,
            ducksets_d.declared_type,
            ducksets_a.data_type
        FROM ducksets_declared AS ducksets_d
        LEFT JOIN ducksets_actual AS ducksets_a
            ON ducksets_a.database_fold = ducksets_d.database_fold
            AND ducksets_a.schema_fold = ducksets_d.schema_fold
            AND ducksets_a.relation_fold = ducksets_d.relation_fold
            AND ducksets_a.column_fold = ducksets_d.column_fold
    ),
    ducksets_undeclared AS (
        SELECT DISTINCT
            ducksets_d.table_key,
            ducksets_a.column_name,
            ducksets_a.data_type
        FROM ducksets_declared AS ducksets_d
        JOIN ducksets_actual AS ducksets_a
            ON ducksets_a.database_fold = ducksets_d.database_fold
            AND ducksets_a.schema_fold = ducksets_d.schema_fold
            AND ducksets_a.relation_fold = ducksets_d.relation_fold
        -- Anti-joins, not NOT EXISTS: DuckDB 1.3 cannot plan these correlated
        -- subqueries ("MARK join with correlation in RHS not supported").
        LEFT JOIN ducksets_declared AS ducksets_d2
            ON ducksets_d2.table_key = ducksets_d.table_key
            AND ducksets_d2.column_fold = ducksets_a.column_fold
        WHERE ducksets_d2.table_key IS NULL
    )
    SELECT
        ducksets_r.table_key,
        'invalid_key' AS drift,
        'table_key is not schema.name or database.schema.name (quote parts with "double quotes")' AS detail
    FROM ducksets_registered AS ducksets_r
    WHERE ducksets_r.key_parts IS NULL
    UNION ALL
    SELECT
        ducksets_b.table_key,
        'invalid_key',
        'table_key starts with the keyword ' || ducksets_b.first_word
            || ', which DuckDB reads as a name only in double quotes ("' || ducksets_b.first_word || '")'
    FROM ducksets_bare_first_keywords AS ducksets_b
    UNION ALL
    SELECT
        ducksets_m.table_key,
        'missing_relation',
        'no table or view ' || ducksets_m.table_key || ' exists'
    FROM ducksets_matched AS ducksets_m
    WHERE NOT ducksets_m.relation_found
    UNION ALL
    SELECT
        ducksets_m.table_key,
        'kind_mismatch',
        CASE
            WHEN ducksets_m.is_view THEN 'registered as a view (is_view = TRUE) but it is a table'
            ELSE 'registered as a table (is_view = FALSE) but it is a view'
        END
    FROM ducksets_matched AS ducksets_m
    WHERE ducksets_m.relation_found
        AND ducksets_m.is_view <> ducksets_m.relation_is_view
    UNION ALL
    SELECT
        ducksets_dva.table_key,
        'missing_column',
        'column ' || metadata.format_ident(ducksets_dva.column_name) || ' (' || ducksets_dva.declared_type
            || ') is declared but the table has no such column'
    FROM ducksets_declared_vs_actual AS ducksets_dva
    WHERE ducksets_dva.data_type IS NULL
    UNION ALL
    SELECT
        ducksets_dva.table_key,
        'type_mismatch',
        'column ' || metadata.format_ident(ducksets_dva.column_name) || ' is declared '
            || ducksets_dva.declared_type || ' but is ' || ducksets_dva.data_type
    FROM ducksets_declared_vs_actual AS ducksets_dva
    WHERE ducksets_dva.data_type IS NOT NULL
        AND upper(ducksets_dva.data_type) <> upper(ducksets_dva.declared_type)
    UNION ALL
    SELECT
        ducksets_u.table_key,
        'unexpected_column',
        'column ' || metadata.format_ident(ducksets_u.column_name) || ' (' || ducksets_u.data_type
            || ') is in the table but not declared'
    FROM ducksets_undeclared AS ducksets_u
    UNION ALL
    SELECT DISTINCT
        ducksets_k.table_key,
        'duplicate_key',
        ducksets_dk.row_count
            || CASE
                WHEN len(ducksets_dk.identity) = 1 THEN ' rows have this table_key: '
                ELSE ' rows name this relation: '
            END
            || ducksets_dk.listed || '; keep one of them'
    FROM ducksets_key_identity AS ducksets_k
    JOIN ducksets_duplicate_keys AS ducksets_dk
        ON ducksets_dk.identity = ducksets_k.identity
    UNION ALL
    SELECT DISTINCT
        ducksets_r.table_key,
        'duplicate_name',
        'dataset name ' || metadata.quote_literal(ducksets_r.name) || ' is given to '
            || ducksets_dn.row_count || ' rows: ' || ducksets_dn.listed
            || '; give each its own name'
    FROM ducksets_registered AS ducksets_r
    JOIN ducksets_duplicate_names AS ducksets_dn
        ON ducksets_dn.name = ducksets_r.name
    UNION ALL
    SELECT
        concat_ws(
            '.',
            CASE
                WHEN ducksets_rel.database_name <> current_database()
                    THEN metadata.format_ident(ducksets_rel.database_name)
            END,
            metadata.format_ident(ducksets_rel.schema_name),
            metadata.format_ident(ducksets_rel.relation_name)
        ),
        'unregistered_relation',
        CASE WHEN ducksets_rel.is_view THEN 'view' ELSE 'table' END
            || ' in a catalog schema has no row in metadata.datasets'
    FROM ducksets_relations_folded AS ducksets_rel
    LEFT JOIN ducksets_resolved AS ducksets_res
        ON ducksets_res.database_fold = ducksets_rel.database_fold
        AND ducksets_res.schema_fold = ducksets_rel.schema_fold
        AND ducksets_res.relation_fold = ducksets_rel.relation_fold
    WHERE NOT ducksets_rel.is_pack_object
        AND ducksets_res.table_key IS NULL
        AND (ducksets_rel.database_fold, ducksets_rel.schema_fold) IN (
            SELECT (ducksets_res2.database_fold, ducksets_res2.schema_fold)
            FROM ducksets_resolved AS ducksets_res2
        )
    ORDER BY drift, table_key, detail;
