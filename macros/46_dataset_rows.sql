-- metadata.dataset_rows (table macro)
--
-- Purpose: one page of a table or view, through query_table, so tables and
--   views need no special case. Pages are cut from a total order over all
--   columns (ORDER BY ALL ASC NULLS LAST, independent of session settings), so
--   reading page after page yields every row exactly once, and reading again
--   gives the same order, for views with joins or aggregates too. Identical
--   rows are interchangeable, so duplicates keep their count. Caveat: rows that
--   compare equal but print differently (a NOCASE collation, 0.0 and -0.0) may
--   swap places between reads. The order costs a sort: a top-N for early
--   pages, close to a full sort for deep offsets (benchmarks/paging.py).
--   row_order := 'scan' skips the sort and pages in scan order, which DuckDB
--   keeps as insertion order for a plain table scan (preserve_insertion_order,
--   the default) but does not promise for views, joins or aggregates.
--   Pass keys from metadata.datasets (SQL users: see the README for looking up
--   a key by dataset name with SET VARIABLE). Keys go through
--   metadata.qualify_table_key: a two-part key reads a schema of the current
--   database (as catalog_drift checks it), and a text that is not a table key
--   (a file path, a URL) is an error instead of a file read.
-- Parameters:
--   table_key   the relation to read, e.g. 'core.goids' (quote parts as in SQL)
--   row_limit   at most this many rows (default 100; pass by name before DuckDB 1.4)
--   row_offset  rows to skip first (default 0)
--   row_order   'all' (default): total order over all columns; 'scan': no sort
-- Example:
--   SELECT * FROM metadata.dataset_rows('core.goids', row_limit := 5, row_offset := 10);
CREATE OR REPLACE MACRO metadata.dataset_rows(
    table_key,
    row_limit := 100,
    row_offset := 0,
    row_order := 'all'
) AS TABLE
    SELECT *
    FROM (
        SELECT *
        FROM query_table(metadata.qualify_table_key(table_key)) AS ducksets_sorted
        WHERE CASE
            WHEN row_order IN ('all', 'scan') THEN row_order = 'all'
            ELSE error('dataset_rows: row_order must be ''all'' or ''scan''')
        END
        ORDER BY ALL ASC NULLS LAST
        LIMIT row_limit
        OFFSET row_offset
    ) AS ducksets_sorted_page
    UNION ALL
    SELECT *
    FROM (
        SELECT *
        FROM query_table(metadata.qualify_table_key(table_key)) AS ducksets_scanned
        WHERE row_order = 'scan'
        LIMIT row_limit
        OFFSET row_offset
    ) AS ducksets_scanned_page;
