-- metadata.table_key_pattern (macro)
--
-- Purpose: the regular expression (RE2) a table key must match: two or three
--   dot-separated parts, each a plain name or a double-quoted identifier.
--   Capture groups 1-3 hold the parts as written. This is DuckDB's own
--   grammar, and Python's parse_table_key (ducksets.keys) uses the same one:
--   a plain part is ASCII letters, digits, _ and $ (not first) or any
--   non-ASCII character except the 18 Unicode spaces DuckDB's parser reads as
--   whitespace (U+00A0, U+2000-U+200B, U+202F, U+205F, U+2060, U+3000,
--   U+FEFF). Explicit code point ranges, because RE2 compiles Unicode classes
--   such as \pL slowly (10 ms a query). Keywords are not the pattern's job:
--   catalog_drift and parse_table_key refuse a bare first part that DuckDB
--   reserves (select.t).
-- Parameters: none.
-- Example:
--   SELECT regexp_full_match('docs."odd.name"', metadata.table_key_pattern());
CREATE OR REPLACE MACRO metadata.table_key_pattern() AS (
    '^("(?:[^"]|"")+"|[A-Za-z_\x{80}-\x{9F}\x{A1}-\x{1FFF}\x{200C}-\x{202E}\x{2030}-\x{205E}\x{2061}-\x{2FFF}\x{3001}-\x{FEFE}\x{FF00}-\x{10FFFF}][A-Za-z0-9_$\x{80}-\x{9F}\x{A1}-\x{1FFF}\x{200C}-\x{202E}\x{2030}-\x{205E}\x{2061}-\x{2FFF}\x{3001}-\x{FEFE}\x{FF00}-\x{10FFFF}]*)\.("(?:[^"]|"")+"|[A-Za-z_\x{80}-\x{9F}\x{A1}-\x{1FFF}\x{200C}-\x{202E}\x{2030}-\x{205E}\x{2061}-\x{2FFF}\x{3001}-\x{FEFE}\x{FF00}-\x{10FFFF}][A-Za-z0-9_$\x{80}-\x{9F}\x{A1}-\x{1FFF}\x{200C}-\x{202E}\x{2030}-\x{205E}\x{2061}-\x{2FFF}\x{3001}-\x{FEFE}\x{FF00}-\x{10FFFF}]*)(?:\.("(?:[^"]|"")+"|[A-Za-z_\x{80}-\x{9F}\x{A1}-\x{1FFF}\x{200C}-\x{202E}\x{2030}-\x{205E}\x{2061}-\x{2FFF}\x{3001}-\x{FEFE}\x{FF00}-\x{10FFFF}][A-Za-z0-9_$\x{80}-\x{9F}\x{A1}-\x{1FFF}\x{200C}-\x{202E}\x{2030}-\x{205E}\x{2061}-\x{2FFF}\x{3001}-\x{FEFE}\x{FF00}-\x{10FFFF}]*))?$'
);
