-- metadata.split_table_key (macro)
--
-- Purpose: a table key split into its unquoted parts, as
--   STRUCT(catalog_name, schema_name, relation_name); catalog_name is NULL
--   for a two-part key, and the whole struct is NULL for a text that does not
--   match metadata.table_key_pattern. The grammar only: DuckDB's keyword rule
--   (select.t needs "select".t) is applied by catalog_drift and by Python's
--   parse_table_key, not here, so any key DuckDB itself can read still splits.
-- Parameters:
--   key_text  the table key, e.g. 'core.goids' or 'db."my schema".t'
-- Example:
--   SELECT metadata.split_table_key('db."my schema".t');
CREATE OR REPLACE MACRO metadata.split_table_key(key_text) AS (
    -- A subquery binds the match once; repeating regexp_extract per part
    -- multiplies the expanded expression and makes every caller slow to bind.
    -- Aliases carry a ducksets_ prefix because arguments are pasted into the
    -- body: a caller's d.name would otherwise bind to an alias d in here.
    SELECT
        CASE
            WHEN ducksets_m.p1 IS NULL OR ducksets_m.p1 = '' THEN NULL
            WHEN ducksets_m.p3 = '' THEN {
                'catalog_name': NULL::TEXT,
                'schema_name': metadata.unquote_ident(ducksets_m.p1),
                'relation_name': metadata.unquote_ident(ducksets_m.p2)
            }
            ELSE {
                'catalog_name': metadata.unquote_ident(ducksets_m.p1),
                'schema_name': metadata.unquote_ident(ducksets_m.p2),
                'relation_name': metadata.unquote_ident(ducksets_m.p3)
            }
        END
    FROM (
        SELECT unnest(regexp_extract(key_text, metadata.table_key_pattern(), ['p1', 'p2', 'p3']))
    ) AS ducksets_m
);
