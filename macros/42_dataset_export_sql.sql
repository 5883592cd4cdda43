-- metadata.dataset_export_sql (macro)
--
-- Purpose: the COPY statement that exports one dataset to a file: its
--   catalog filename for that format, or '<name>.jsonl' / '<name>.parquet'.
--   Key parts are quoted one by one and the path is an escaped literal, so the
--   statement touches only that dataset. NULL for an unknown dataset.
-- Parameters:
--   ds_name     the dataset name, e.g. 'goids'
--   fmt         'parquet' (default) or 'jsonl' (newline-delimited JSON)
--   output_dir  directory the file goes in (default '.')
-- Example:
--   SELECT metadata.dataset_export_sql('goids', fmt := 'jsonl', output_dir := '/tmp/out');
CREATE OR REPLACE MACRO metadata.dataset_export_sql(ds_name, fmt := 'parquet', output_dir := '.') AS (
    CASE
        WHEN lower(fmt) NOT IN ('parquet', 'jsonl')
            THEN error('dataset_export_sql: unknown fmt ' || metadata.quote_literal(fmt) || '; use ''parquet'' or ''jsonl''')
        ELSE (
            SELECT
                CASE
                    WHEN metadata.quote_table_key(d.table_key) IS NULL
                        THEN error('dataset_export_sql: dataset ' || metadata.quote_literal(d.name)
                            || ' has an invalid table_key ' || metadata.quote_literal(d.table_key)
                            || '; fix its row in metadata.datasets')
                    ELSE 'COPY (SELECT * FROM ' || metadata.quote_table_key(d.table_key) || ') TO '
                        || metadata.quote_literal(
                            rtrim(coalesce(nullif(output_dir, ''), '.'), '/') || '/'
                            || CASE lower(fmt)
                                WHEN 'jsonl' THEN coalesce(d.jsonl_filename, d.name || '.jsonl')
                                ELSE coalesce(d.parquet_filename, d.name || '.parquet')
                            END
                        )
                        || CASE lower(fmt) WHEN 'jsonl' THEN ' (FORMAT JSON)' ELSE ' (FORMAT PARQUET)' END
                END
            FROM metadata.datasets AS d
            WHERE d.name = ds_name
        )
    END
);
