-- metadata.qualify_table_key (macro)
--
-- Purpose: a table key as query_table must see it so that it names exactly
--   the relation catalog_drift checks: a two-part key 'side.t' is prefixed
--   with the quoted current database ('"memory".side.t'), so it reads schema
--   side of the current database and never an attached database side's
--   main.t; a three-part key is returned unchanged. A text that is not a table
--   key (a file path, a URL such as 'https://...', one part, four parts) is an
--   error, so query_table never gets a name DuckDB would read as a file.
--   Subquery-free on purpose: query_table accepts a scalar macro call only
--   when it holds no subquery.
--   Residual: when the named relation does not exist, DuckDB still tries its
--   replacement scan on the whole dotted name, so a file literally named
--   '<db>.<schema>.<name>.<ext>' (e.g. memory.data.csv) in the working
--   directory would be read. The Python read paths check that the relation
--   exists first (in the same transaction) and never get there.
-- Parameters:
--   key_text  the table key, e.g. 'core.goids' or 'side.main.t'
-- Example:
--   SELECT metadata.qualify_table_key('core.goids');
CREATE OR REPLACE MACRO metadata.qualify_table_key(key_text) AS (
    CASE
        WHEN NOT regexp_full_match(key_text, metadata.table_key_pattern())
            THEN error('qualify_table_key: ' || key_text || ' is not a table key; '
                || 'give schema.name or database.schema.name')
        WHEN regexp_extract(key_text, metadata.table_key_pattern(), 3) = ''
            THEN '"' || replace(current_database(), '"', '""') || '".' || key_text
        ELSE key_text
    END
);
