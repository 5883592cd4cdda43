-- metadata.broken (macro)
--
-- Purpose: a body that does not parse.
-- Parameters:
--   val  anything
-- Example:
--   SELECT metadata.broken(1);
CREATE OR REPLACE MACRO metadata.broken(val) AS (
    val +
);
