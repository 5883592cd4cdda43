-- metadata.broken_call (macro)
--
-- Purpose: parses, but calls a function DuckDB does not have.
-- Parameters: none.
-- Example:
--   SELECT metadata.broken_call();
CREATE OR REPLACE MACRO metadata.broken_call() AS (
    no_such_function_anywhere(1)
);
