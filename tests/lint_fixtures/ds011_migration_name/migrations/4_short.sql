-- migration 0004: a name without four digits
ALTER TABLE metadata.items ADD COLUMN IF NOT EXISTS kind VARCHAR;
