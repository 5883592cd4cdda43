-- metadata.something_else (macro)
--
-- Purpose: a header naming another object.
-- Parameters: none.
-- Example:
--   SELECT metadata.named();
CREATE OR REPLACE MACRO metadata.named() AS (1);
