-- metadata.pack_migrations (table)
--
-- Purpose: which of the pack's migrations (macros/migrations/NNNN_slug.sql)
--   this database has had, one row each. A migration brings a pack table of
--   an older released shape forward; the install runs the ones not recorded
--   here, in number order, inside its transaction, and records them (the
--   piped script runs every migration, each a no-op when already applied).
--   A fresh install makes every table in its current shape, so its
--   migrations change nothing and are recorded as applied.
-- Parameters: none. Columns:
--   id            the migration's number (1 for 0001_...)
--   name          its file name without .sql ('0001_dataset_columns')
--   applied_at    when it was recorded
--   pack_version  the pack version whose install applied it
-- Example:
--   SELECT id, name, pack_version FROM metadata.pack_migrations ORDER BY id;
CREATE TABLE IF NOT EXISTS metadata.pack_migrations (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    applied_at   TIMESTAMP NOT NULL,
    pack_version TEXT NOT NULL
);

COMMENT ON TABLE metadata.pack_migrations IS 'ducksets: the pack migrations applied to this database';
