-- metadata.format_ident (macro)
--
-- Purpose: one identifier in its canonical, minimally quoted form: bare when
--   it is a lower-case plain name that is not a reserved word, else quoted.
-- Parameters:
--   ident_text  the identifier, unquoted
-- Example:
--   SELECT metadata.format_ident('goids'), metadata.format_ident('Odd Name');
CREATE OR REPLACE MACRO metadata.format_ident(ident_text) AS (
    CASE
        WHEN regexp_full_match(ident_text, '[a-z_][a-z0-9_]*')
            AND ident_text NOT IN (
                SELECT ducksets_kw.keyword_name
                FROM duckdb_keywords() AS ducksets_kw
                WHERE ducksets_kw.keyword_category = 'reserved'
            )
            THEN ident_text
        ELSE metadata.quote_ident(ident_text)
    END
);
