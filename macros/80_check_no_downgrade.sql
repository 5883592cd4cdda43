-- metadata.check_no_downgrade (macro)
--
-- Purpose: TRUE when installing this pack version would not replace a newer
--   installed one; raises an error that says what to do otherwise. Versions
--   compare numerically, part by part (0.10.0 is newer than 0.9.1). A recorded
--   version that is not three numbers ('garbage', '0.4.0-rc1', '') is refused
--   with its own error: only a forced install (which forgets the row) repairs it.
-- Parameters: none.
-- Example:
--   SELECT metadata.check_no_downgrade();
CREATE OR REPLACE MACRO metadata.check_no_downgrade() AS (
    SELECT coalesce(
        bool_and(
            -- Element by element: before DuckDB 2.0, comparing whole
            -- string_split(...)::INTEGER[] lists from a column compares as text.
            CASE
                WHEN NOT regexp_full_match(ducksets_v.version, '[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}')
                    THEN error('ducksets: pack_info holds an unreadable version '
                        || metadata.quote_literal(ducksets_v.version)
                        || '; ducksets install --force (install_macros(con, force=True)) repairs it,'
                        || ' or delete that pack_info row and install again')
                WHEN [ducksets_v.installed[1]::INTEGER, ducksets_v.installed[2]::INTEGER, ducksets_v.installed[3]::INTEGER]
                    > [ducksets_v.current[1]::INTEGER, ducksets_v.current[2]::INTEGER, ducksets_v.current[3]::INTEGER]
                    THEN error('ducksets: pack ' || ducksets_v.version || ' is installed, newer than this pack '
                        || metadata.pack_version() || '; use ducksets ' || ducksets_v.version
                        || ' or newer, or force the downgrade (install_macros(con, force=True) or ducksets install --force)')
                ELSE TRUE
            END
        ),
        TRUE
    )
    FROM (
        SELECT
            ducksets_i.version,
            string_split(ducksets_i.version, '.') AS installed,
            string_split(metadata.pack_version(), '.') AS current
        FROM metadata.pack_info AS ducksets_i
    ) AS ducksets_v
);
