-- metadata.dataset_table_key (macro)
--
-- Purpose: the table key of the dataset called ds_name, as the catalog
--   holds it; NULL when no such dataset is registered.
-- Parameters:
--   ds_name  the dataset name, e.g. 'goids'
-- Example:
--   SELECT metadata.dataset_table_key('goids');
CREATE OR REPLACE MACRO metadata.dataset_table_key(ds_name) AS (
    SELECT ducksets_ds.table_key
    FROM metadata.datasets AS ducksets_ds
    WHERE ducksets_ds.name = ds_name
);
