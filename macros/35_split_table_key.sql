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
    CASE
        WHEN NOT regexp_full_match(key_text, metadata.table_key_pattern())
            THEN NULL
        WHEN regexp_extract(key_text, metadata.table_key_pattern(), 3) = ''
            THEN {
                'catalog_name': NULL::TEXT,
                'schema_name': metadata.unquote_ident(regexp_extract(key_text, metadata.table_key_pattern(), 1)),
                'relation_name': metadata.unquote_ident(regexp_extract(key_text, metadata.table_key_pattern(), 2))
            }
        ELSE {
            'catalog_name': metadata.unquote_ident(regexp_extract(key_text, metadata.table_key_pattern(), 1)),
            'schema_name': metadata.unquote_ident(regexp_extract(key_text, metadata.table_key_pattern(), 2)),
            'relation_name': metadata.unquote_ident(regexp_extract(key_text, metadata.table_key_pattern(), 3))
        }
    END
);
