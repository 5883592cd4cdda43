-- metadata.dataset_columns (table)
--
-- Purpose: the declared columns of base-table datasets, so catalog_drift can
--   compare them with the database from SQL alone. Added in pack 0.2.0; the
--   Python bootstrap writes it, SQL users may too (types in DuckDB's
--   spelling, as duckdb_columns() shows them: VARCHAR, not TEXT).
-- Parameters: none. Columns:
--   table_key      the dataset's key, as in metadata.datasets
--   column_name    the column
--   ordinal        its 1-based position in the declaration
--   declared_type  its DuckDB type
--   is_nullable    FALSE for NOT NULL
--   pk_position    its 1-based position in the primary key, NULL if not in it
-- Example:
--   INSERT INTO metadata.dataset_columns VALUES ('core.goids', 'urn', 2, 'VARCHAR', FALSE, NULL);
CREATE TABLE IF NOT EXISTS metadata.dataset_columns (
    table_key     TEXT NOT NULL,
    column_name   TEXT NOT NULL,
    ordinal       INTEGER NOT NULL,
    declared_type TEXT NOT NULL,
    is_nullable   BOOLEAN NOT NULL,
    pk_position   INTEGER,
    PRIMARY KEY (table_key, column_name)
);

COMMENT ON TABLE metadata.dataset_columns IS 'ducksets: declared columns of base-table datasets';
