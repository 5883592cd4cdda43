-- metadata.format_ident (macro)
--
-- Purpose: one identifier in its canonical, minimally quoted form: bare when
--   it is a lower-case plain name that is not a keyword DuckDB's parser
--   refuses bare where a name starts (every reserved keyword, and most
--   type_function ones such as join, like, left), else quoted. The keyword set
--   is asked of the running DuckDB's parser, as Python's format_identifier
--   asks it (ducksets._names), so both give the same text.
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
                WHERE ducksets_kw.keyword_category IN ('reserved', 'type_function')
                    AND json_extract_string(
                        json_serialize_sql('SELECT * FROM ' || ducksets_kw.keyword_name || '.t'),
                        '$.error'
                    ) = 'true'
            )
            THEN ident_text
        ELSE metadata.quote_ident(ident_text)
    END
);
