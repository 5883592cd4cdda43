-- metadata.table_key_pattern (macro)
--
-- Purpose: the regular expression (RE2) a table key must match: two or three
--   dot-separated parts, each a plain name or a double-quoted identifier.
--   Capture groups 1-3 hold the parts as written. A plain part is ASCII
--   letters, digits, _ and $ (not first) or any non-ASCII character: RE2
--   compiles Unicode classes such as \pL slowly (10 ms a query), and Python's
--   parse_table_key, stricter, admits only letters and digits there.
-- Parameters: none.
-- Example:
--   SELECT regexp_full_match('docs."odd.name"', metadata.table_key_pattern());
CREATE OR REPLACE MACRO metadata.table_key_pattern() AS (
    '^("(?:[^"]|"")+"|[A-Za-z_[:^ascii:]][A-Za-z0-9_$[:^ascii:]]*)\.("(?:[^"]|"")+"|[A-Za-z_[:^ascii:]][A-Za-z0-9_$[:^ascii:]]*)(?:\.("(?:[^"]|"")+"|[A-Za-z_[:^ascii:]][A-Za-z0-9_$[:^ascii:]]*))?$'
);
