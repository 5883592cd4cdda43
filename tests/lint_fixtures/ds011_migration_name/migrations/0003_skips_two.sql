-- migration 0003: numbered 0003 after 0001: 0002 is missing
ALTER TABLE metadata.items ADD COLUMN IF NOT EXISTS label VARCHAR;
