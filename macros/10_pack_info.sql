-- metadata.pack_info (table)
--
-- Purpose: which pack version is installed, when, and under which DuckDB.
--   One row (pack = 'ducksets'), written by 90_record_install.sql.
-- Parameters: none.
-- Example:
--   SELECT version, installed_at, duckdb_version FROM metadata.pack_info;
CREATE TABLE IF NOT EXISTS metadata.pack_info (
    pack           TEXT PRIMARY KEY,
    version        TEXT NOT NULL,
    installed_at   TIMESTAMP NOT NULL,
    duckdb_version TEXT NOT NULL
);

COMMENT ON TABLE metadata.pack_info IS 'ducksets: the installed pack version (one row)';
