-- migration 0003 items get a tag (no colon after the number)
ALTER TABLE metadata.items ADD COLUMN IF NOT EXISTS tag VARCHAR;
