"""How ``load_dataset_registry`` grows with the catalog: 10k, 100k and 1M datasets.

Each size gets a fresh in-memory catalog built with one ``INSERT ... SELECT``
from ``range()`` (one dataset in five a view, every one with a JSONL name,
half with a Parquet name; with ``--columns N``, N declared columns per base
table in ``metadata.dataset_columns``). Then, interleaved (A B A B ...):

- A, the baseline: the bare catalog query, ``FROM metadata.datasets ORDER BY
  table_key``, fetched into Python tuples;
- B: ``load_dataset_registry(con)``, the call issue 11 measured;
- C: ``load_dataset_registry(con, schemas=...)`` with 100 declared schemas
  spelled otherwise than the catalog (as a gateway passes its declared
  tables), then a lookup by name and the first lookup by table key (which
  builds the key index).

It prints B's and C's times (wall clock) and their ratios to A as median
[min..max] per size, then the growth per 10x (ratio of medians, and of the
fastest runs). The goals (issue 11): B at most 0.4 s at 100k datasets, and
at most 11x per 10x up to 1M. On a shared machine wall times wander; the
ratios to A, run interleaved, are the numbers to compare, and ``--clock cpu``
(process CPU time, all threads) shows the work without other processes' share.

Run: .venv/bin/python benchmarks/registry.py [--runs 5] [--columns 0] [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable

import duckdb

from ducksets import Column, TableSchema, install_macros, load_dataset_registry

DECLARED = 100


def build(size: int, columns: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    install_macros(con)
    con.execute(
        """
        INSERT INTO metadata.datasets
        SELECT 'core.t' || range, 'd' || range, range % 5 = 0, 't' || range || '.jsonl',
            CASE WHEN range % 2 = 0 THEN 't' || range || '.parquet' END
        FROM range(?)
        """,
        [size],
    )
    if columns:
        con.execute(
            """
            INSERT INTO metadata.dataset_columns
            SELECT 'core.t' || d.range, 'c' || c.range, c.range, 'BIGINT', c.range > 0,
                CASE WHEN c.range = 0 THEN 1 END
            FROM range(?) AS d, range(?) AS c
            WHERE d.range % 5 <> 0
            """,
            [size, columns],
        )
    return con


CLOCK = time.perf_counter


def timed(call: Callable[[], object]) -> float:
    start = CLOCK()
    call()
    return CLOCK() - start


def spread(values: list[float], scale: float = 1.0, unit: str = "") -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid * scale:.3f}{unit} [{low * scale:.3f}..{high * scale:.3f}]"


def measure(size: int, runs: int, columns: int) -> dict[str, list[float]]:
    con = build(size, columns)
    schema = TableSchema((Column("c0", "BIGINT", nullable=False),), ("c0",))
    declared = {f'CORE."T{i}"': schema for i in range(1, size, size // DECLARED)}

    def bare() -> None:
        con.execute("FROM metadata.datasets ORDER BY table_key").fetchall()

    def load() -> None:
        load_dataset_registry(con)

    def declared_and_lookups() -> None:
        registry = load_dataset_registry(con, schemas=declared)
        registry.dataset_for_name(f"d{size - 1}")
        registry.dataset_for_table(f"core.t{size - 1}")

    calls = {"bare": bare, "load": load, "declared": declared_and_lookups}
    times: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(runs):
        for label, call in calls.items():
            times[label].append(timed(call))
    con.close()
    for label, text in (("load", "load_dataset_registry"), ("declared", "+ 100 schemas, lookups")):
        ratios = [b / a for a, b in zip(times["bare"], times[label], strict=True)]
        print(
            f"{size:>9,} datasets, {text:<22}: {spread(times[label], 1, ' s')}; "
            f"vs the bare catalog query {spread(ratios, 1, 'x')}",
            flush=True,
        )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--columns", type=int, default=0)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    global CLOCK  # one switch for every timing of the run
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"duckdb {duckdb.__version__}; {args.runs} interleaved runs; {args.columns} columns; "
        f"{args.clock} clock"
    )
    times = {size: measure(size, args.runs, args.columns) for size in sizes}
    for small, large in itertools.pairwise(sizes):
        factor = large / small
        for label in ("bare", "load", "declared"):
            before, after = times[small][label], times[large][label]
            median = statistics.median(after) / statistics.median(before)
            fastest = min(after) / min(before)
            print(
                f"growth {small:,} -> {large:,} ({factor:g}x datasets), {label:<8}: "
                f"{median:.1f}x (medians), {fastest:.1f}x (fastest runs); goal <= {1.1 * factor:g}x"
            )


if __name__ == "__main__":
    main()
