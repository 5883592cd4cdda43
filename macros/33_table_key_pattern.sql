-- metadata.table_key_pattern (macro)
--
-- Purpose: the regular expression (RE2) a table key must match: two or three
--   dot-separated parts, each a plain name or a double-quoted identifier.
--   Capture groups 1-3 hold the parts as written.
-- Parameters: none.
-- Example:
--   SELECT regexp_full_match('docs."odd.name"', metadata.table_key_pattern());
CREATE OR REPLACE MACRO metadata.table_key_pattern() AS (
    '^("(?:[^"]|"")+"|[\pL_][\pL\pN_$]*)\.("(?:[^"]|"")+"|[\pL_][\pL\pN_$]*)(?:\.("(?:[^"]|"")+"|[\pL_][\pL\pN_$]*))?$'
);
