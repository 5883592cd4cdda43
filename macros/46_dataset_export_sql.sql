-- metadata.dataset_export_sql (macro)
--
-- Purpose: the COPY statement that exports one dataset to a file: its
--   catalog filename for that format, or '<name>.jsonl' / '<name>.parquet'.
--   Key parts are quoted one by one and the path is an escaped literal, so the
--   statement touches only that dataset. NULL for an unknown dataset; an error
--   when the file name is not a plain name (a directory part, '.' or '..') or
--   the key is invalid.
-- Parameters:
--   ds_name     the dataset name, e.g. 'goids'
--   fmt         'parquet' (default) or 'jsonl' (newline-delimited JSON)
--   output_dir  directory the file goes in (default '.')
-- Example:
--   SELECT metadata.dataset_export_sql('goids', fmt := 'jsonl', output_dir := '/tmp/out');
CREATE OR REPLACE MACRO metadata.dataset_export_sql(ds_name, fmt := 'parquet', output_dir := '.') AS (
    -- Checks that raise stay at the top level, outside any subquery: inside a
    -- correlated subquery DuckDB 2.0 may evaluate them on other datasets' rows.
    CASE
        WHEN lower(fmt) NOT IN ('parquet', 'jsonl')
            THEN error('dataset_export_sql: unknown fmt ' || metadata.quote_literal(fmt) || '; use ''parquet'' or ''jsonl''')
        WHEN NOT metadata.dataset_exists(ds_name) THEN NULL
        WHEN NOT regexp_full_match(metadata.dataset_table_key(ds_name), metadata.table_key_pattern())
            THEN error('dataset_export_sql: dataset ' || metadata.quote_literal(ds_name)
                || ' has an invalid table_key ' || metadata.quote_literal(metadata.dataset_table_key(ds_name))
                || '; fix its row in metadata.datasets')
        WHEN list_contains(['', '.', '..'], metadata.dataset_filename(ds_name, fmt := fmt))
            OR regexp_matches(metadata.dataset_filename(ds_name, fmt := fmt), '[/\\]')
            THEN error('dataset_export_sql: file name ' || metadata.quote_literal(metadata.dataset_filename(ds_name, fmt := fmt))
                || ' of dataset ' || metadata.quote_literal(ds_name)
                || ' is not a plain file name; set its ' || lower(fmt)
                || '_filename in metadata.datasets to a name like ''data.' || lower(fmt) || '''')
        ELSE 'COPY (SELECT * FROM ' || metadata.dataset_quoted_key(ds_name) || ') TO '
            || metadata.quote_literal(
                rtrim(coalesce(nullif(output_dir, ''), '.'), '/') || '/' || metadata.dataset_filename(ds_name, fmt := fmt)
            )
            || CASE lower(fmt) WHEN 'jsonl' THEN ' (FORMAT JSON)' ELSE ' (FORMAT PARQUET)' END
    END
);
