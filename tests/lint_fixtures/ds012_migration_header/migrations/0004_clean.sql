-- migration 0004: a header as it should be
ALTER TABLE metadata.items ADD COLUMN IF NOT EXISTS kind VARCHAR;
