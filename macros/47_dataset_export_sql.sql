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
    -- The dataset's row is read once, by one subquery (every lookup used to be
    -- a scalar subquery of its own, and ordering their joins was most of a
    -- call). Checks that raise sit above an aggregate, never beside the
    -- WHERE: in a correlated call DuckDB 2.0 may evaluate a subquery's
    -- projection on rows its WHERE rejects, firing on another dataset's row.
    -- A key part is pasted as written when quoted (a quoted part is already
    -- its canonical quoted form) and wrapped in quotes when bare (a bare part
    -- holds no quote), which is what quote_ident(unquote_ident(part)) gives.
    CASE
        WHEN lower(fmt) NOT IN ('parquet', 'jsonl')
            THEN error('dataset_export_sql: unknown fmt ' || metadata.quote_literal(fmt) || '; use ''parquet'' or ''jsonl''')
        ELSE (
            SELECT
                CASE
                    WHEN ducksets_row.table_key IS NULL THEN NULL
                    WHEN ducksets_row.key_parts.p1 = ''
                        THEN error('dataset_export_sql: dataset ' || metadata.quote_literal(ds_name)
                            || ' has an invalid table_key ' || metadata.quote_literal(ducksets_row.table_key)
                            || '; fix its row in metadata.datasets')
                    WHEN list_contains(['', '.', '..'], ducksets_row.filename)
                        OR regexp_matches(ducksets_row.filename, '[/\\]')
                        THEN error('dataset_export_sql: file name ' || metadata.quote_literal(ducksets_row.filename)
                            || ' of dataset ' || metadata.quote_literal(ds_name)
                            || ' is not a plain file name; set its ' || lower(fmt)
                            || '_filename in metadata.datasets to a name like ''data.' || lower(fmt) || '''')
                    ELSE 'COPY (SELECT * FROM '
                        || concat_ws(
                            '.',
                            CASE
                                WHEN starts_with(ducksets_row.key_parts.p1, '"') THEN ducksets_row.key_parts.p1
                                ELSE '"' || ducksets_row.key_parts.p1 || '"'
                            END,
                            CASE
                                WHEN starts_with(ducksets_row.key_parts.p2, '"') THEN ducksets_row.key_parts.p2
                                ELSE '"' || ducksets_row.key_parts.p2 || '"'
                            END,
                            CASE
                                WHEN ducksets_row.key_parts.p3 = '' THEN NULL
                                WHEN starts_with(ducksets_row.key_parts.p3, '"') THEN ducksets_row.key_parts.p3
                                ELSE '"' || ducksets_row.key_parts.p3 || '"'
                            END
                        )
                        || ') TO '
                        || metadata.quote_literal(
                            rtrim(coalesce(nullif(output_dir, ''), '.'), '/') || '/' || ducksets_row.filename
                        )
                        || CASE lower(fmt) WHEN 'jsonl' THEN ' (FORMAT JSON)' ELSE ' (FORMAT PARQUET)' END
                END
            FROM (
                -- An aggregate: one row, NULLs for an unknown dataset (names are unique).
                SELECT
                    min(ducksets_ds.table_key) AS table_key,
                    min(regexp_extract(ducksets_ds.table_key, metadata.table_key_pattern(), ['p1', 'p2', 'p3'])) AS key_parts,
                    min(
                        CASE lower(fmt)
                            WHEN 'jsonl' THEN coalesce(ducksets_ds.jsonl_filename, ducksets_ds.name || '.jsonl')
                            ELSE coalesce(ducksets_ds.parquet_filename, ducksets_ds.name || '.parquet')
                        END
                    ) AS filename
                FROM metadata.datasets AS ducksets_ds
                WHERE ducksets_ds.name = ds_name
            ) AS ducksets_row
        )
    END
);
