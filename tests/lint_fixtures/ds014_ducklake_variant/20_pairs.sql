-- metadata.pairs (table)
--
-- Purpose: a table with a two-column key and a UNIQUE pair: its DuckLake
--   variant drops both and keeps the key columns NOT NULL (no DS014).
-- Parameters: none.
-- Example:
--   SELECT * FROM metadata.pairs;
CREATE TABLE IF NOT EXISTS metadata.pairs (
    left_id  INTEGER,
    right_id INTEGER,
    label    TEXT,
    PRIMARY KEY (left_id, right_id),
    UNIQUE (label, right_id)
);
