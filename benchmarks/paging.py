"""What the pack's stable page order costs, and what it buys.

``dataset_rows`` cuts pages from ``ORDER BY ALL`` (a total order over every
column) by default, or from a plain scan with ``row_order := 'scan'``, which
the read service picks for base tables (the pack's ``scan_is_ordered``:
DuckDB keeps insertion order there). On a 10-million-row table whose first
column is not sorted, this times page 1 and a page at offset 9,000,000
through the macro (both orders) and through ``DatasetQueryService`` against
a bare ``SELECT * ... LIMIT ... OFFSET`` in the same run, and prints ratios.
Then it reads one page of a view with a join and an aggregate several times
with ``threads = 2``: the bare query may return different rows each time; the
macro must not.

Run: .venv/bin/python benchmarks/paging.py [ROWS]
"""

from __future__ import annotations

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
RUNS = 3


def best_time(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        con.execute(sql).fetchall()
        times.append(time.perf_counter() - start)
    return min(times)


def best_call(call: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def costs(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    con.execute(
        "CREATE TABLE main.big AS SELECT hash(range) % 1000000 AS k, range AS id, "
        "'x' || (range * 7 % 10007) AS label, range / 3 AS score FROM range(?)",
        [rows],
    )
    print(f"table main.big: {rows:,} rows (k, id, label, score); best of {RUNS}")
    register_dataset(con, "main.big")
    service = DatasetQueryService(Gateway(StorageConfig(), con))
    for offset in (0, rows - rows // 10):
        bare = best_time(con, f"SELECT * FROM main.big LIMIT {PAGE} OFFSET {offset}")
        print(f"\npage of {PAGE} at offset {offset:,}")
        print(f"  bare LIMIT/OFFSET (baseline, no order promise): {bare * 1000:9.1f} ms")
        for label, extra in (("dataset_rows (ORDER BY ALL)", ""), ("row_order 'scan'", "scan")):
            order = f", row_order := '{extra}'" if extra else ""
            macro = best_time(
                con,
                f"SELECT * FROM metadata.dataset_rows('main.big', row_limit := {PAGE}, "
                f"row_offset := {offset}{order})",
            )
            print(f"  {label:<46}: {macro * 1000:9.1f} ms  ratio {macro / bare:8.1f}x")
        served = best_call(
            partial(service.read_dataset_rows, dataset_name="big", limit=PAGE, offset=offset)
        )
        label = "DatasetQueryService (picks 'scan' for a table)"
        print(f"  {label:<46}: {served * 1000:9.1f} ms  ratio {served / bare:8.1f}x")


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
    con = duckdb.connect()
    install_macros(con)
    print(f"duckdb {duckdb.__version__}")
    costs(con, rows)
    consistency(con)


if __name__ == "__main__":
    main()
