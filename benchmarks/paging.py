"""What the pack's stable page order costs, and what it buys.

On a 10-million-row table whose first column is not sorted, this reads a page
of 100 rows at offset 0 and at offset 9,000,000 through ``DatasetQueryService``
(a base table pages in insertion order, as a bare scan) and through the pack's
``dataset_rows`` with its default total order (``ORDER BY ALL``), each run
interleaved with the baseline, a bare ``SELECT * ... LIMIT ... OFFSET`` (A B A
B ...), and prints each one's ratio to the baseline as median [min..max].
The goal (issue 11): the service at most 1.5x the bare query at both offsets.
Then a view over the same table (no scan order: pages are sorted): a page at
offset 0.9 x ROWS reached through ``next_cursor``, interleaved with the view's
page 1; the goal (issue 11) is at most 2x page 1, where the same page by
offset sorts nearly everything (shown too, with fewer runs).
Last it reads one page of a view with a join and an aggregate several times
with ``threads = 2``: the bare query may return different rows each time; the
macro must not.

Run: .venv/bin/python benchmarks/paging.py [ROWS] [RUNS] [view]
("view" runs only the view section.)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from functools import partial

import duckdb

from ducksets import (
    DatasetQueryService,
    Gateway,
    StorageConfig,
    install_macros,
    register_dataset,
)

PAGE = 100
SORTED_SQL = "SELECT * FROM metadata.dataset_rows('main.big', row_limit := ?, row_offset := ?)"


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f}x [{min(values):.2f}..{max(values):.2f}]"


def interleaved(
    baseline: Callable[[], object], subject: Callable[[], object], runs: int
) -> tuple[list[float], list[float]]:
    """Times of ``baseline`` and ``subject``, run alternately ``runs`` times each."""
    subject()  # first call of each pays one-time costs (binding, caches) outside the count
    baseline()
    base, times = [], []
    for _ in range(runs):
        base.append(timed(baseline))
        times.append(timed(subject))
    return base, times


def make_table(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    con.execute(
        "CREATE TABLE main.big AS SELECT hash(range) % 1000000 AS k, range AS id, "
        "'x' || (range * 7 % 10007) AS label, range / 3 AS score FROM range(?)",
        [rows],
    )
    register_dataset(con, "main.big")


def costs(con: duckdb.DuckDBPyConnection, rows: int, runs: int) -> None:
    make_table(con, rows)
    print(f"table main.big: {rows:,} rows (k, id, label, score); {runs} interleaved runs")
    service = DatasetQueryService(Gateway(StorageConfig(), con))
    cursor = con.cursor()
    for offset in (0, rows - rows // 10):
        print(f"\npage of {PAGE} at offset {offset:,}, ratio to the bare query:")

        def bare(offset: int = offset) -> object:
            sql = "SELECT * FROM main.big LIMIT ? OFFSET ?"
            return cursor.execute(sql, [PAGE, offset]).fetchall()

        served = partial(service.read_dataset_rows, dataset_name="big", limit=PAGE, offset=offset)
        subjects: list[tuple[str, Callable[[], object], int]] = [
            ("DatasetQueryService (a table: scan order)", served, runs),
            # The sort is slow at depth: fewer runs.
            (
                "dataset_rows, ORDER BY ALL",
                lambda o=offset: cursor.execute(SORTED_SQL, [PAGE, o]).fetchall(),
                max(3, runs // 5),
            ),
        ]
        for label, subject, count in subjects:
            base, times = interleaved(bare, subject, count)
            ratios = [t / b for b, t in zip(base, times, strict=True)]
            print(
                f"  {label:<42}: {spread(ratios)}  "
                f"(bare {statistics.median(base) * 1000:.2f} ms, "
                f"this {statistics.median(times) * 1000:.2f} ms, median)",
                flush=True,
            )


def view_costs(con: duckdb.DuckDBPyConnection, rows: int, runs: int) -> None:
    """A deep page of a view by cursor, and by offset, against the view's page 1."""
    con.execute("CREATE OR REPLACE VIEW main.v_big AS SELECT * FROM main.big")
    register_dataset(con, "main.v_big")
    service = DatasetQueryService(Gateway(StorageConfig(), con))
    read = service.read_dataset_rows
    depth = rows - rows // 10
    print(f"\nview main.v_big over {rows:,} rows (sorted: ORDER BY ALL), page of {PAGE}:")
    start = time.perf_counter()
    before = read(dataset_name="v_big", limit=PAGE, offset=depth - PAGE)
    took = time.perf_counter() - start
    print(f"  (one page at offset {depth - PAGE:,} to get a cursor: {took:.2f} s)")
    cursor = before.next_cursor
    assert cursor is not None
    deep = read(dataset_name="v_big", limit=PAGE, cursor=cursor)
    by_offset = read(dataset_name="v_big", limit=PAGE, offset=depth)
    assert deep.offset == depth and deep.rows == by_offset.rows, "cursor and offset disagree"
    first = partial(read, dataset_name="v_big", limit=PAGE)
    subjects: list[tuple[str, Callable[[], object], int]] = [
        (
            f"offset {depth:,} by cursor",
            partial(read, dataset_name="v_big", limit=PAGE, cursor=cursor),
            runs,
        ),
        (
            f"offset {depth:,} by offset",
            partial(read, dataset_name="v_big", limit=PAGE, offset=depth),
            max(3, runs // 5),
        ),
    ]
    for label, subject, count in subjects:
        base, times = interleaved(first, subject, count)
        ratios = [t / b for b, t in zip(base, times, strict=True)]
        print(
            f"  {label:<30} vs page 1: {spread(ratios)}  "
            f"(page 1 {statistics.median(base) * 1000:.1f} ms, "
            f"this {statistics.median(times) * 1000:.1f} ms, median)",
            flush=True,
        )


def consistency(con: duckdb.DuckDBPyConnection, reads: int = 5) -> None:
    con.execute("SET threads = 2")
    con.execute(
        """
        CREATE TABLE main.calls AS
            SELECT range % 50000 AS caller, range % 7 AS kind FROM range(300000);
        CREATE TABLE main.funcs AS SELECT range AS goid, range % 3 AS lang FROM range(50000);
        CREATE VIEW main.per_caller AS
            SELECT f.lang, c.kind, count(*) AS calls
            FROM main.calls AS c JOIN main.funcs AS f ON f.goid = c.caller
            GROUP BY c.caller, f.lang, c.kind
        """
    )
    limit, offset = 20000, 100000
    print(f"\nview main.per_caller (join + aggregate), threads = 2, page {limit:,} at {offset:,}")
    for label, sql in (
        ("bare LIMIT/OFFSET", f"SELECT * FROM main.per_caller LIMIT {limit} OFFSET {offset}"),
        (
            "dataset_rows",
            f"SELECT * FROM metadata.dataset_rows('main.per_caller', row_limit := {limit}, "
            f"row_offset := {offset})",
        ),
    ):
        pages = {tuple(con.execute(sql).fetchall()) for _ in range(reads)}
        print(f"  {label:<18}: {len(pages)} distinct page(s) in {reads} reads")
    total = con.execute("SELECT count(*) FROM main.per_caller").fetchall()[0][0]
    seen: list[tuple[object, ...]] = []
    for start in range(0, total, limit):
        seen += con.execute(
            "SELECT * FROM metadata.dataset_rows('main.per_caller', row_limit := ?, "
            "row_offset := ?)",
            [limit, start],
        ).fetchall()
    full = con.execute("SELECT * FROM main.per_caller").fetchall()
    same = sorted(seen) == sorted(full)
    print(f"  dataset_rows, all {total:,} rows page by page: multiset equal to the view: {same}")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 21
    only_view = len(sys.argv) > 3 and sys.argv[3] == "view"
    con = duckdb.connect()
    install_macros(con)
    print(f"duckdb {duckdb.__version__}")
    if only_view:
        make_table(con, rows)
    else:
        costs(con, rows, runs)
    view_costs(con, rows, runs)
    if not only_view:
        consistency(con)


if __name__ == "__main__":
    main()
