-- metadata.one (macro)
--
-- Purpose: a macro created without OR REPLACE.
-- Parameters: none.
-- Example:
--   SELECT metadata.one();
CREATE MACRO metadata.one() AS (1);
