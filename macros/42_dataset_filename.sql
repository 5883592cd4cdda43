-- metadata.dataset_filename (macro)
--
-- Purpose: the export file name of a dataset for a format: its catalog
--   filename, or '<name>.jsonl' / '<name>.parquet' when that is NULL; NULL
--   for an unknown dataset. Not checked: dataset_export_sql refuses names
--   that are not plain file names.
-- Parameters:
--   ds_name  the dataset name, e.g. 'goids'
--   fmt      'parquet' (default) or 'jsonl'
-- Example:
--   SELECT metadata.dataset_filename('goids', fmt := 'jsonl');
CREATE OR REPLACE MACRO metadata.dataset_filename(ds_name, fmt := 'parquet') AS (
    SELECT
        CASE lower(fmt)
            WHEN 'jsonl' THEN coalesce(ducksets_ds.jsonl_filename, ducksets_ds.name || '.jsonl')
            ELSE coalesce(ducksets_ds.parquet_filename, ducksets_ds.name || '.parquet')
        END
    FROM metadata.datasets AS ducksets_ds
    WHERE ducksets_ds.name = ds_name
);
