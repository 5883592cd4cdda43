-- metadata.unquote_ident (macro)
--
-- Purpose: one identifier part as written in a key ('"a""b"' or 'goids')
--   back to the name it denotes (a"b, goids); NULL for an empty part.
-- Parameters:
--   ident_token  one part of a table key, as written
-- Example:
--   SELECT metadata.unquote_ident('"odd ""name"""');
CREATE OR REPLACE MACRO metadata.unquote_ident(ident_token) AS (
    CASE
        WHEN ident_token IS NULL OR ident_token = '' THEN NULL
        WHEN starts_with(ident_token, '"')
            THEN replace(substr(ident_token, 2, length(ident_token) - 2), '""', '"')
        ELSE ident_token
    END
);
