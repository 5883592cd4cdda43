-- migration 0008: a macro belongs in a pack file
CREATE OR REPLACE MACRO metadata.one() AS (1);
