-- metadata.checked (table)
--
-- Purpose: a table DuckLake refuses: it has a CHECK constraint.
-- Parameters: none.
-- Example:
--   SELECT * FROM metadata.checked;
CREATE TABLE IF NOT EXISTS metadata.checked (
    id    INTEGER PRIMARY KEY,
    score INTEGER NOT NULL CHECK (score >= 0)
);
