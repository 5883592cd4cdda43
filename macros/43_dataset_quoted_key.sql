-- metadata.dataset_quoted_key (macro)
--
-- Purpose: the table key of the dataset called ds_name with every part
--   double-quoted, ready to paste into SQL; NULL for an unknown dataset or
--   an invalid key.
-- Parameters:
--   ds_name  the dataset name, e.g. 'goids'
-- Example:
--   SELECT metadata.dataset_quoted_key('goids');
CREATE OR REPLACE MACRO metadata.dataset_quoted_key(ds_name) AS (
    -- quote_table_key gets a column, not a subquery: DuckDB cannot bind a
    -- subquery argument inside its body's own subquery.
    SELECT metadata.quote_table_key(ducksets_ds.table_key)
    FROM metadata.datasets AS ducksets_ds
    WHERE ducksets_ds.name = ds_name
);
