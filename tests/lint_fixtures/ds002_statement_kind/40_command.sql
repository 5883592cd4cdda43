-- metadata.greet (macro)
--
-- Purpose: an unparenthesised body sqlglot only reads as a raw command.
-- Parameters:
--   who  a name
-- Example:
--   SELECT metadata.greet('you');
CREATE OR REPLACE MACRO metadata.greet(who) AS 'hello ' || who;
