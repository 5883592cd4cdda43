-- metadata.unlisted (macro)
--
-- Purpose: present but not in MANIFEST.
-- Parameters: none.
-- Example:
--   SELECT metadata.unlisted();
CREATE OR REPLACE MACRO metadata.unlisted() AS (1);
