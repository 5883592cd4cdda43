-- metadata.fold_name (macro)
--
-- Purpose: a name folded as DuckDB compares names: ASCII letters lowered,
--   nothing else ("Ä" and "ä" are two tables, "Ab" and "AB" one). lower()
--   alone would fold all of Unicode, so it is used only for ASCII-only text
--   (strlen = length, the common case, where it is exact and cheapest) and
--   translate() of A-Z otherwise. Python's ducksets._names.fold_name is the
--   same rule. catalog_drift and scan_is_ordered compare names through it.
-- Parameters:
--   name_text  one name (a database, schema, relation or column name)
-- Example:
--   SELECT metadata.fold_name('StraßE'), metadata.fold_name('Ä');
CREATE OR REPLACE MACRO metadata.fold_name(name_text) AS (
    CASE
        WHEN strlen(name_text) = length(name_text) THEN lower(name_text)
        ELSE translate(name_text, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
    END
);
