-- metadata.quote_table_key (macro)
--
-- Purpose: a table key with every part double-quoted, in order, ready to
--   paste into SQL; NULL for an invalid key.
-- Parameters:
--   key_text  the table key, e.g. 'docs."odd.name"'
-- Example:
--   SELECT metadata.quote_table_key('docs."odd.name"');
CREATE OR REPLACE MACRO metadata.quote_table_key(key_text) AS (
    SELECT
        CASE
            WHEN ducksets_k.key_parts IS NULL THEN NULL
            ELSE concat_ws(
                '.',
                metadata.quote_ident(ducksets_k.key_parts.catalog_name),
                metadata.quote_ident(ducksets_k.key_parts.schema_name),
                metadata.quote_ident(ducksets_k.key_parts.relation_name)
            )
        END
    FROM (SELECT metadata.split_table_key(key_text) AS key_parts) AS ducksets_k
);
