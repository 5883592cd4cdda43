-- metadata.stray (macro)
--
-- Purpose: an object created outside the pack schema.
-- Parameters: none.
-- Example:
--   SELECT main.stray();
CREATE OR REPLACE MACRO main.stray() AS (1);
