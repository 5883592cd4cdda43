-- migration 0007: CREATE TABLE without IF NOT EXISTS
CREATE TABLE metadata.more (a INTEGER);
