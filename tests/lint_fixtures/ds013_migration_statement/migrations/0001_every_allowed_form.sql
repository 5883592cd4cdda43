-- migration 0001: every statement form a migration may hold, each a no-op when re-run
CREATE TABLE IF NOT EXISTS metadata.tags (
    tag VARCHAR PRIMARY KEY
);
ALTER TABLE metadata.items ADD COLUMN IF NOT EXISTS note VARCHAR;
INSERT INTO metadata.tags VALUES ('none') ON CONFLICT DO NOTHING;
UPDATE metadata.items SET note = 'none' WHERE note IS NULL;
COMMENT ON TABLE metadata.tags IS 'ducksets fixture: tags';
COMMENT ON COLUMN metadata.items.note IS 'ducksets fixture: a note';
