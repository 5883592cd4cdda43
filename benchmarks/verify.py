"""What ``ducksets verify`` costs against ``sha256sum`` over the same files.

A database of three tables (2M, 1M and 0.5M rows) is exported to JSONL and
Parquet (about 350 MB in six files). The baseline is ``sha256sum`` of the six
files; the subject is ``ducksets verify DIR`` (hashes, sizes, row counts from
the Parquet footers and JSONL newlines, schemas), both as subprocesses, timed
as interleaved pairs (baseline, subject, baseline, subject, ...) with the
files in the page cache. It prints each median and the ratio subject /
baseline as median [min..max] over the pairs; the goal is <= 1.2x. For
reference it also times ``verify_exports`` in this process (no interpreter
start or imports) and ``ducksets verify --full``.

Run: .venv/bin/python benchmarks/verify.py [PAIRS] [DIR]
(DIR keeps the export between runs; default a temporary directory.)
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ducksets import StorageConfig, export_datasets, open_gateway, verify_exports
from ducksets.filenames import MANIFEST_NAME

PAIRS = 7
BIN = Path(sys.executable).parent
TABLES = {"main.big": 2_000_000, "main.medium": 1_000_000, "main.small": 500_000}


def build(directory: Path) -> list[Path]:
    """Export the three tables (both formats) into ``directory`` unless already there."""
    if not (directory / MANIFEST_NAME).exists():
        names = {key: key.split(".")[1] for key in TABLES}
        config = StorageConfig(
            ":memory:",
            jsonl={key: f"{name}.jsonl" for key, name in names.items()},
            parquet={key: f"{name}.parquet" for key, name in names.items()},
        )
        with open_gateway(config) as gateway:
            for key, rows in TABLES.items():
                gateway.con.execute(
                    f"CREATE TABLE {key} AS SELECT i AS id, 'label ' || i AS label,"
                    " i * 1.5 AS score, TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS ts"
                    f" FROM range({rows}) r(i)"
                )
            from ducksets.catalog import register_dataset

            for key in TABLES:
                register_dataset(
                    gateway.con,
                    key,
                    jsonl_filename=config.jsonl[key],
                    parquet_filename=config.parquet[key],
                )
            gateway.refresh()
            assert export_datasets(gateway, directory, ("jsonl", "parquet")).ok
    return sorted(p for p in directory.iterdir() if p.suffix in {".jsonl", ".parquet"})


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def run(command: Sequence[str | Path]) -> Callable[[], object]:
    def call() -> None:
        subprocess.run(list(map(str, command)), check=True, capture_output=True)

    return call


def pairs(case: str, baseline: Callable[[], object], subject: Callable[[], object], n: int) -> None:
    base: list[float] = []
    subj: list[float] = []
    for _ in range(n):
        base.append(timed(baseline))
        subj.append(timed(subject))
    ratios = sorted(s / b for s, b in zip(subj, base, strict=True))
    print(
        f"{case:28} sha256sum {statistics.median(base) * 1000:7.0f} ms   "
        f"subject {statistics.median(subj) * 1000:7.0f} ms   "
        f"ratio {statistics.median(ratios):.2f} [{ratios[0]:.2f}..{ratios[-1]:.2f}]"
    )


def main(count: int, kept: Path | None) -> None:
    directory = kept or Path(tempfile.mkdtemp(prefix="ducksets-verify-bench-"))
    try:
        files = build(directory)
        total = sum(p.stat().st_size for p in files)
        print(f"{len(files)} files, {total / 1e6:.0f} MB in {directory}")
        sha256sum = run(["sha256sum", *files])
        report = verify_exports(directory)
        assert report.ok, report
        sha256sum()  # both warm: files in the page cache
        pairs("ducksets verify DIR", sha256sum, run([BIN / "ducksets", "verify", directory]), count)
        pairs("verify_exports (in process)", sha256sum, lambda: verify_exports(directory), count)
        full = run([BIN / "ducksets", "verify", directory, "--full"])
        pairs("ducksets verify DIR --full", sha256sum, full, max(3, count // 2))
    finally:
        if kept is None:
            shutil.rmtree(directory)


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else PAIRS,
        Path(sys.argv[2]) if len(sys.argv) > 2 else None,
    )
