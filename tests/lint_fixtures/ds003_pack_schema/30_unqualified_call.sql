-- metadata.twice_count (macro)
--
-- Purpose: calls a pack macro without naming its schema.
-- Parameters: none.
-- Example:
--   SELECT metadata.twice_count();
CREATE OR REPLACE MACRO metadata.twice_count() AS (
    2 * item_count()
);
