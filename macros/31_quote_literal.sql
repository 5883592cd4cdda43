-- metadata.quote_literal (macro)
--
-- Purpose: one string literal, single-quoted with embedded quotes doubled,
--   safe to paste into SQL text.
-- Parameters:
--   literal_text  the text to quote
-- Example:
--   SELECT metadata.quote_literal('O''Brien''s file.parquet');
CREATE OR REPLACE MACRO metadata.quote_literal(literal_text) AS (
    '''' || replace(literal_text, '''', '''''') || ''''
);
