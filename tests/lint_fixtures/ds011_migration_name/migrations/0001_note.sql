-- migration 0001: items get a note
ALTER TABLE metadata.items ADD COLUMN IF NOT EXISTS note VARCHAR;
