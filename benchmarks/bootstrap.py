"""Bootstrap of 10,000 datasets: one batched upsert against one-row-at-a-time upserts.

Both run in this process on fresh in-memory databases; the ratio is what to
read (times on a shared machine are noisy). The baseline is the origin design's
loop: one ``INSERT ... ON CONFLICT DO UPDATE`` per dataset. The batched side
does more (it also stores 2 declared columns per table) and still wins.

Run: .venv/bin/python benchmarks/bootstrap.py [N]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import duckdb

from ducksets import Column, TableSchema, bootstrap_metadata_datasets, install_macros

SCHEMA = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "VARCHAR")), ("id",))


def fresh() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    install_macros(con)
    return con


def batched(count: int, run: int) -> float:
    con = fresh()
    # New keys each run, so no run profits from the key parser's cache.
    tables = {f"s{run}.t{i}": SCHEMA for i in range(count)}
    jsonl = {f"s{run}.t{i}": f"t{i}.jsonl" for i in range(count)}
    start = time.perf_counter()
    bootstrap_metadata_datasets(con, tables=tables, jsonl=jsonl)
    elapsed = time.perf_counter() - start
    assert con.execute("SELECT count(*) FROM metadata.datasets").fetchone() == (count,)
    return elapsed


def row_at_a_time(count: int, run: int) -> float:
    con = fresh()
    start = time.perf_counter()
    for i in range(count):
        con.execute(
            """
            INSERT INTO metadata.datasets VALUES (?, ?, FALSE, ?, NULL)
            ON CONFLICT (table_key) DO UPDATE SET
                name = excluded.name, is_view = excluded.is_view,
                jsonl_filename = excluded.jsonl_filename,
                parquet_filename = excluded.parquet_filename
            """,
            [f"s{run}.t{i}", f"t{i}", f"t{i}.jsonl"],
        )
    elapsed = time.perf_counter() - start
    assert con.execute("SELECT count(*) FROM metadata.datasets").fetchone() == (count,)
    return elapsed


def best_of(runs: int, measure: Callable[[int, int], float], count: int) -> float:
    return min(measure(count, run) for run in range(runs))


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    batch = best_of(3, batched, count)
    single = best_of(1, row_at_a_time, count)
    print(f"datasets: {count:,}")
    print(f"bootstrap_metadata_datasets (batched, with columns): {batch:.3f} s")
    print(f"one INSERT ... ON CONFLICT per dataset (baseline):   {single:.3f} s")
    print(f"ratio baseline / batched: {single / batch:.1f}x faster")


if __name__ == "__main__":
    main()
