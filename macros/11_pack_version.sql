-- metadata.pack_version (macro)
--
-- Purpose: the version of the pack these files make. This file is the one
--   source of the version: pyproject.toml reads it at build time.
-- Parameters: none.
-- Example:
--   SELECT metadata.pack_version();
CREATE OR REPLACE MACRO metadata.pack_version() AS ('0.7.0');
