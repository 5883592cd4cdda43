-- metadata (schema)
--
-- Purpose: holds the ducksets pack: its catalog tables and its macros.
--   Installing into another schema renames it; every body follows.
-- Parameters: none.
-- Example:
--   SELECT schema_name FROM duckdb_schemas() WHERE schema_name = 'metadata';
CREATE SCHEMA IF NOT EXISTS metadata;
