-- metadata.pairs (row)
--
-- Purpose: an install record DuckLake refuses, ON CONFLICT DO NOTHING, which
--   has no keyless variant.
-- Parameters: none.
-- Example:
--   SELECT * FROM metadata.pairs;
INSERT INTO metadata.pairs (left_id, right_id, label)
SELECT 1, 2, 'one-two'
ON CONFLICT DO NOTHING;
