-- migration 0003: a column dropped
ALTER TABLE metadata.items DROP COLUMN IF EXISTS label;
