-- metadata.datasets (table)
--
-- Purpose: the dataset catalog, one row per table or view. The source of
--   truth that every macro and the Python package read.
-- Parameters: none. Columns:
--   table_key         the relation, 'schema.name' or 'database.schema.name',
--                     parts double-quoted where needed ('docs."odd name"')
--   name              the short dataset name callers use; unique
--   is_view           TRUE for a view, FALSE for a base table
--   jsonl_filename    file name for JSONL exports, or NULL for '<name>.jsonl'
--   parquet_filename  file name for Parquet exports, or NULL for '<name>.parquet'
-- Example:
--   INSERT INTO metadata.datasets VALUES ('core.goids', 'goids', FALSE, 'goids.jsonl', 'goids.parquet');
CREATE TABLE IF NOT EXISTS metadata.datasets (
    table_key        TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    is_view          BOOLEAN NOT NULL,
    jsonl_filename   TEXT,
    parquet_filename TEXT
);

COMMENT ON TABLE metadata.datasets IS 'ducksets: the dataset catalog (one row per table or view)';
