-- migration 0005: an unguarded UPDATE
UPDATE metadata.items SET note = lower(note);
