CREATE OR REPLACE MACRO metadata.bare() AS (1);
