-- metadata.split_table_key (macro)
--
-- Purpose: a table key split into its unquoted parts, as
--   STRUCT(catalog_name, schema_name, relation_name); catalog_name is NULL
--   for a two-part key, and the whole struct is NULL for an invalid key.
-- Parameters:
--   key_text  the table key, e.g. 'core.goids' or 'db."my schema".t'
-- Example:
--   SELECT metadata.split_table_key('db."my schema".t');
CREATE OR REPLACE MACRO metadata.split_table_key(key_text) AS (
    -- A subquery binds the match once; repeating regexp_extract per part
    -- multiplies the expanded expression and makes every caller slow to bind.
    SELECT
        CASE
            WHEN m.p1 = '' THEN NULL
            WHEN m.p3 = '' THEN {
                'catalog_name': NULL::TEXT,
                'schema_name': metadata.unquote_ident(m.p1),
                'relation_name': metadata.unquote_ident(m.p2)
            }
            ELSE {
                'catalog_name': metadata.unquote_ident(m.p1),
                'schema_name': metadata.unquote_ident(m.p2),
                'relation_name': metadata.unquote_ident(m.p3)
            }
        END
    FROM (
        SELECT unnest(regexp_extract(key_text, metadata.table_key_pattern(), ['p1', 'p2', 'p3']))
    ) AS m
);
