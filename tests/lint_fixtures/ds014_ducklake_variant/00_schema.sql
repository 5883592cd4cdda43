-- metadata (schema)
--
-- Purpose: the fixture pack schema.
-- Parameters: none.
-- Example:
--   SELECT 1;
CREATE SCHEMA IF NOT EXISTS metadata;
