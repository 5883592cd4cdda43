-- migration 0006: an upsert
INSERT INTO metadata.tags VALUES ('x') ON CONFLICT (tag) DO UPDATE SET tag = excluded.tag;
