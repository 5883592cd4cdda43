"""What ``ducksets datasets DB`` costs as a whole process, against the same query in ``python -c``.

The baseline is the least a user could write: ``python -c`` that imports
``duckdb``, opens the database read-only, reads the catalog rows and prints
them as JSON. The subject is the CLI (``ducksets datasets DB``, the console
script beside this interpreter). Both run as fresh processes, interleaved
(baseline, subject, baseline, subject, ...), on a database holding the pack and
a few datasets; the script prints subject/baseline as median [min..max] of the
per-pair ratios, and the median milliseconds of each for reference.

The subject runs the ``ducksets`` this interpreter imports. ``--tree DIR``
(repeatable) runs it from another checkout's ``DIR/python`` instead, one
subject per tree in each round (baseline, tree 1, tree 2, baseline, ...), so
that a change can be measured before and after in one run.

Every process runs with bytecode cached in a private folder
(``PYTHONPYCACHEPREFIX``, ``PYTHONDONTWRITEBYTECODE`` unset), written by the
untimed first run: an installed package has its bytecode, and a checkout whose
``__pycache__`` is stale or missing would otherwise be timed compiling itself.

Run: .venv/bin/python benchmarks/cli_start.py [PAIRS] [--tree DIR ...]
"""

from __future__ import annotations

import argparse
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


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, bytes]:
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {completed.stderr.decode(errors='replace')}")
    return elapsed, completed.stdout


def report(label: str, subject: list[float], base: list[float]) -> None:
    ratios = [s / b for s, b in zip(subject, base, strict=True)]
    print(
        f"  {label}: ratio {statistics.median(ratios):.2f}x "
        f"[{min(ratios):.2f}..{max(ratios):.2f}]"
        f"  (median {statistics.median(subject) * 1000:.0f} ms"
        f" vs {statistics.median(base) * 1000:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pairs", type=int, nargs="?", default=10)
    parser.add_argument("--tree", type=Path, action="append", default=[])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        envs: dict[str, dict[str, str]] = {"installed ducksets": cached}
        if args.tree:
            trees = {str(t): str(t.resolve() / "python") for t in args.tree}
            envs = {label: {**cached, "PYTHONPATH": path} for label, path in trees.items()}
        db = Path(tmp) / "catalog.duckdb"
        build(db)
        baseline = [sys.executable, "-c", BASELINE, str(db)]
        subject = subject_command(db)
        # The same output, so both do the same work; this also warms the disk
        # cache and writes the bytecode.
        expected = run(baseline, cached)[1]
        for env in envs.values():
            assert run(subject, env)[1] == expected
        base_times: list[float] = []
        subject_times: dict[str, list[float]] = {label: [] for label in envs}
        for _ in range(args.pairs):
            base_times.append(run(baseline, cached)[0])
            for label, env in envs.items():
                subject_times[label].append(run(subject, env)[0])
    print(f"ducksets datasets DB vs python -c (duckdb), {args.pairs} interleaved rounds")
    for label, times in subject_times.items():
        report(label, times, base_times)


if __name__ == "__main__":
    main()
