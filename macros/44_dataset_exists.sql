-- metadata.dataset_exists (macro)
--
-- Purpose: TRUE when a dataset of that name is registered in
--   metadata.datasets, FALSE otherwise (names match exactly).
-- Parameters:
--   ds_name  the dataset name, e.g. 'goids'
-- Example:
--   SELECT metadata.dataset_exists('goids');
CREATE OR REPLACE MACRO metadata.dataset_exists(ds_name) AS (
    EXISTS (
        SELECT 1
        FROM metadata.datasets AS ducksets_ds
        WHERE ducksets_ds.name = ds_name
    )
);
