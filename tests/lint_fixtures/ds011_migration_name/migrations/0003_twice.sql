-- migration 0003: a second 0003
ALTER TABLE metadata.items ADD COLUMN IF NOT EXISTS tag VARCHAR;
