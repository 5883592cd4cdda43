-- metadata.quote_ident (macro)
--
-- Purpose: one identifier, double-quoted with embedded quotes doubled, safe
--   to paste into SQL text. DuckDB has no built-in for this.
-- Parameters:
--   ident_text  the identifier, unquoted ('we"ird' means we"ird)
-- Example:
--   SELECT metadata.quote_ident('we"ird name');
CREATE OR REPLACE MACRO metadata.quote_ident(ident_text) AS (
    '"' || replace(ident_text, '"', '""') || '"'
);
