-- metadata.format_ident (macro)
--
-- Purpose: one identifier in its canonical, minimally quoted form: bare when
--   it is a lower-case plain name that is not a keyword DuckDB's parser
--   refuses bare where a name starts (every reserved keyword, and most
--   type_function ones such as join, like, left: metadata.refused_keywords),
--   else quoted. Python's format_identifier asks the running parser the same
--   question (ducksets._names), so both give the same text.
-- Parameters:
--   ident_text  the identifier, unquoted
-- Example:
--   SELECT metadata.format_ident('goids'), metadata.format_ident('Odd Name');
CREATE OR REPLACE MACRO metadata.format_ident(ident_text) AS (
    CASE
        WHEN regexp_full_match(ident_text, '[a-z_][a-z0-9_]*')
            AND ident_text NOT IN (
                SELECT ducksets_kw.keyword_name
                FROM metadata.refused_keywords() AS ducksets_kw
            )
            THEN ident_text
        ELSE metadata.quote_ident(ident_text)
    END
);
