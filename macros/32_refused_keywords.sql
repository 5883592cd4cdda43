-- metadata.refused_keywords (table macro)
--
-- Purpose: the keywords DuckDB's parser refuses bare where a name starts
--   (select.t, join.t need "select".t), in lower case, one row each: every
--   reserved keyword and most type_function ones (join, like, left; not map
--   or struct). The set moves between DuckDB versions, so it is asked of the
--   running parser. The one home of this rule in the pack: format_ident and
--   catalog_drift read it; Python's ducksets._names runs the same query,
--   because it must work where the pack is not installed.
-- Parameters: none.
-- Example:
--   SELECT keyword_name FROM metadata.refused_keywords() ORDER BY keyword_name;
CREATE OR REPLACE MACRO metadata.refused_keywords() AS TABLE
    SELECT ducksets_kw.keyword_name
    FROM duckdb_keywords() AS ducksets_kw
    WHERE ducksets_kw.keyword_category IN ('reserved', 'type_function')
        AND json_extract_string(
            json_serialize_sql('SELECT * FROM ' || ducksets_kw.keyword_name || '.t'),
            '$.error'
        ) = 'true';
