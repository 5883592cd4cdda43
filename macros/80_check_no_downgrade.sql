-- metadata.check_no_downgrade (macro)
--
-- Purpose: TRUE when installing this pack version would not replace a newer
--   installed one; raises an error that says what to do otherwise. Versions
--   compare numerically, part by part (0.10.0 is newer than 0.9.1).
-- Parameters: none.
-- Example:
--   SELECT metadata.check_no_downgrade();
CREATE OR REPLACE MACRO metadata.check_no_downgrade() AS (
    SELECT coalesce(
        bool_and(
            CASE
                WHEN string_split(i.version, '.')::INTEGER[] > string_split(metadata.pack_version(), '.')::INTEGER[]
                    THEN error('ducksets: pack ' || i.version || ' is installed, newer than this pack '
                        || metadata.pack_version() || '; use ducksets ' || i.version
                        || ' or newer, or force the downgrade (install_macros(con, force=True) or ducksets install --force)')
                ELSE TRUE
            END
        ),
        TRUE
    )
    FROM metadata.pack_info AS i
);
