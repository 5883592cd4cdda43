-- migration 0003: the header names another number than the file
ALTER TABLE metadata.items ADD COLUMN IF NOT EXISTS label VARCHAR;
