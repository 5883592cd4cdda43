-- migration 0001: metadata.dataset_columns, new in pack 0.2.0 (declared columns of datasets)
--
-- The one change of a pack table's shape among the released packs 0.1.0 to
-- 0.5.0 (tests/fixtures/pack-*.sql): a 0.1.0 catalog has no dataset_columns.
-- Its datasets keep no declared columns, so catalog_drift compares none of
-- theirs until sync_catalog or an INSERT declares them.
--
-- 21_dataset_columns.sql, which runs before the migrations, creates the table
-- in its current shape, which is still 0.2.0's, so this statement is a no-op
-- today. It stays as the record of that change: a later migration that
-- alters dataset_columns starts from this shape.
CREATE TABLE IF NOT EXISTS metadata.dataset_columns (
    table_key     TEXT NOT NULL,
    column_name   TEXT NOT NULL,
    ordinal       INTEGER NOT NULL,
    declared_type TEXT NOT NULL,
    is_nullable   BOOLEAN NOT NULL,
    pk_position   INTEGER,
    PRIMARY KEY (table_key, column_name)
);
