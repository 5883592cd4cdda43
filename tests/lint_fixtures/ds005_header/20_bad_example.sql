-- metadata.answer (macro)
--
-- Purpose: an example that is not SQL.
-- Parameters: none.
-- Example:
--   SELECT metadata.answer(;
CREATE OR REPLACE MACRO metadata.answer() AS (42);
