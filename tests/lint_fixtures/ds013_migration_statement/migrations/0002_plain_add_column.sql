-- migration 0002: ADD COLUMN without IF NOT EXISTS
ALTER TABLE metadata.items ADD COLUMN label VARCHAR;
