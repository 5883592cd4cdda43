"""How ducksets grows with the catalog: 1k, 10k, 100k (and, with ``--million``, 1M) datasets.

Each size gets a fresh database file: the pack, then one ``INSERT ... SELECT``
from ``range()`` into ``metadata.datasets`` (one dataset in five a view, every
one with a JSONL name, half with a Parquet name) and, unless ``--no-relations``,
the tables and views themselves (one ``CREATE`` each, a transaction per 10k;
the slow part of building 1M: about 4 minutes, gigabytes of memory). Then,
interleaved (A B C ... A B C ...), each as often:

- ``bare``: the bare catalog query, ``FROM metadata.datasets``, fetched into
  Python (the baseline every other line is divided by);
- ``registry``: ``load_dataset_registry(con)``;
- ``drift``: ``catalog_drift(con)`` (the pack's macro, pack verified first);
- ``statements``: every dataset's ``COPY`` statement built by one set-based
  query of ``dataset_export_sql`` (as an export run asks for them);
- ``cli``: ``ducksets datasets DB --format csv`` as a subprocess, whole
  process (start, query, output to a pipe), read-only.

It prints each one's time as median [min..max] and its ratio to ``bare``,
then the growth per 10x (ratio of medians, and of the fastest runs); linear
is 10x. Times on a shared machine wander: read ratios and growth.

Run: .venv/bin/python benchmarks/scale.py [--runs 3] [--million] [--no-relations] [--skip cli]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from ducksets import catalog_drift, install_macros, load_dataset_registry

DUCKSETS = Path(sys.executable).with_name("ducksets")
STATEMENTS = """
    SELECT metadata.dataset_export_sql(n, fmt := f, output_dir := $1)
    FROM (SELECT unnest($2::VARCHAR[]) AS n, unnest($3::VARCHAR[]) AS f)
"""


def build(path: Path, size: int, relations: bool) -> float:
    """Write a catalog of ``size`` datasets to ``path``; seconds it took."""
    start = time.perf_counter()
    with duckdb.connect(str(path)) as con:
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
        if relations:
            con.execute("CREATE SCHEMA IF NOT EXISTS core")
            for start in range(0, size, 10_000):  # a transaction per 10k: bounded memory
                con.execute("BEGIN TRANSACTION")
                for i in range(start, min(size, start + 10_000)):
                    if i % 5 == 0:
                        con.execute(f"CREATE VIEW core.t{i} AS SELECT {i} AS id")
                    else:
                        con.execute(f"CREATE TABLE core.t{i} (id BIGINT)")
                con.execute("COMMIT")
        con.execute("CHECKPOINT")
    return time.perf_counter() - start


def subjects(
    con: duckdb.DuckDBPyConnection, path: Path, size: int
) -> dict[str, Callable[[], object]]:
    names = [f"d{i}" for i in range(size)]
    formats = ["jsonl"] * size

    def statements() -> None:
        con.execute(STATEMENTS, ["/tmp/out", names, formats]).fetchall()

    def cli() -> None:
        command = [str(DUCKSETS), "datasets", str(path), "--format", "csv"]
        subprocess.run(command, check=True, stdout=subprocess.PIPE)

    return {
        "bare": lambda: con.execute("FROM metadata.datasets").fetchall(),
        "registry": lambda: load_dataset_registry(con),
        "drift": lambda: catalog_drift(con),
        "statements": statements,
        "cli": cli,
    }


def spread(values: list[float], unit: str = "") -> str:
    return f"{statistics.median(values):.3f}{unit} [{min(values):.3f}..{max(values):.3f}]"


def measure(
    root: Path, size: int, runs: int, relations: bool, skip: set[str]
) -> dict[str, list[float]]:
    path = root / f"scale-{size}.duckdb"
    seconds = build(path, size, relations)
    print(f"{size:>9,} datasets: built in {seconds:.1f}s", flush=True)
    con = duckdb.connect(str(path), read_only=True)
    calls = {k: v for k, v in subjects(con, path, size).items() if k not in skip}
    times: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(runs):
        for label, call in calls.items():
            start = time.perf_counter()
            call()
            times[label].append(time.perf_counter() - start)
    con.close()
    for label in calls:
        ratios = [b / a for a, b in zip(times["bare"], times[label], strict=True)]
        print(
            f"{size:>9,} {label:<10} {spread(times[label], ' s')}; vs bare {spread(ratios, 'x')}",
            flush=True,
        )
    path.unlink()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--million", action="store_true", help="also 1,000,000 datasets (minutes)")
    parser.add_argument("--no-relations", action="store_true", help="catalog rows only")
    parser.add_argument("--skip", action="append", default=[], help="a subject not to run")
    args = parser.parse_args()
    sizes = [1_000, 10_000, 100_000] + ([1_000_000] if args.million else [])
    relations = not args.no_relations
    print(
        f"duckdb {duckdb.__version__}; {args.runs} interleaved runs; "
        f"relations {'created' if relations else 'absent'}"
    )
    root = Path(tempfile.mkdtemp(prefix="ducksets-bench-scale-"))
    try:
        times = {s: measure(root, s, args.runs, relations, set(args.skip)) for s in sizes}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for small, large in itertools.pairwise(sizes):
        for label in times[small]:
            before, after = times[small][label], times[large][label]
            median = statistics.median(after) / statistics.median(before)
            fastest = min(after) / min(before)
            print(
                f"growth {small:,} -> {large:,}, {label:<10}: {median:5.1f}x (medians), "
                f"{fastest:5.1f}x (fastest runs); linear is {large // small}x"
            )


if __name__ == "__main__":
    main()
