"""What ``ducksets datasets DB`` costs as a whole process, against the same query in ``python -c``.

The baseline is the least a user could write: ``python -c`` that imports
``duckdb``, opens the database read-only, reads the catalog rows and prints
them as JSON. The subject is the CLI (``ducksets datasets DB``, the console
script beside this interpreter). Both run as fresh processes, interleaved
(baseline, subject, baseline, subject, ...), on a database holding the pack and
a few datasets; the script prints subject/baseline as median [min..max] of the
per-pair ratios, and the median milliseconds of each for reference.

The subject runs the ``ducksets`` this interpreter imports; set ``PYTHONPATH``
to another checkout's ``python/`` to measure that one (both sides get it).

Run: .venv/bin/python benchmarks/cli_start.py [PAIRS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from ducksets import install_macros, register_dataset

DATASETS = 20

BASELINE = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute(
    "SELECT name, table_key, CASE WHEN is_view THEN 'view' ELSE 'table' END AS kind, "
    "jsonl_filename, parquet_filename FROM metadata.datasets ORDER BY name"
).fetchall()
con.close()
keys = ("name", "table_key", "kind", "jsonl_filename", "parquet_filename")
print(json.dumps([dict(zip(keys, row)) for row in rows], indent=2))
"""


def build(path: Path) -> None:
    """A database with the pack and ``DATASETS`` small tables registered."""
    con = duckdb.connect(str(path))
    try:
        install_macros(con)
        con.execute("CREATE SCHEMA core")
        for i in range(DATASETS):
            con.execute(f"CREATE TABLE core.t{i} AS SELECT range AS id FROM range(10)")
            register_dataset(con, f"core.t{i}")
    finally:
        con.close()


def subject_command(db: Path) -> list[str]:
    script = Path(sys.executable).with_name("ducksets")
    if script.is_file():
        return [str(script), "datasets", str(db)]
    return [sys.executable, "-m", "ducksets", "datasets", str(db)]


def run(command: list[str]) -> float:
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {completed.stderr.decode(errors='replace')}")
    return elapsed


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "catalog.duckdb"
        build(db)
        baseline = [sys.executable, "-c", BASELINE, str(db)]
        subject = subject_command(db)
        # Same output, so both do the same work; one warm-up run each (disk cache).
        same = subprocess.run(baseline, capture_output=True, check=True).stdout
        assert same == subprocess.run(subject, capture_output=True, check=True).stdout
        base_times, subject_times = [], []
        for _ in range(pairs):
            base_times.append(run(baseline))
            subject_times.append(run(subject))
    ratios = [s / b for s, b in zip(subject_times, base_times, strict=True)]
    where = os.environ.get("PYTHONPATH") or "the installed ducksets"
    print(f"ducksets datasets DB vs python -c (duckdb), {pairs} interleaved pairs, {where}")
    print(
        f"  ratio {statistics.median(ratios):.2f}x [{min(ratios):.2f}..{max(ratios):.2f}]"
        f"  (median {statistics.median(subject_times) * 1000:.0f} ms"
        f" vs {statistics.median(base_times) * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
