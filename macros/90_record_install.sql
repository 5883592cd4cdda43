-- metadata.pack_info (row)
--
-- Purpose: records this pack's version in metadata.pack_info, last, so the
--   row changes only when every object above was created. Refuses (through
--   metadata.check_no_downgrade) to overwrite a newer installed pack; an
--   install of the same version leaves the row as it was.
-- Parameters: none.
-- Example:
--   SELECT * FROM metadata.pack_info;
INSERT INTO metadata.pack_info (pack, version, installed_at, duckdb_version)
SELECT
    'ducksets',
    metadata.pack_version(),
    now()::TIMESTAMP,
    version()
WHERE metadata.check_no_downgrade()
ON CONFLICT (pack) DO UPDATE SET
    version = excluded.version,
    installed_at = excluded.installed_at,
    duckdb_version = excluded.duckdb_version
WHERE metadata.pack_info.version <> excluded.version;
