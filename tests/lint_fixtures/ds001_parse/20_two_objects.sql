-- metadata.first (macro)
--
-- Purpose: two objects in one file.
-- Parameters: none.
-- Example:
--   SELECT metadata.first();
CREATE OR REPLACE MACRO metadata.first() AS (1);

CREATE OR REPLACE MACRO metadata.second() AS (2);
