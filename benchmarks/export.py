"""Export of a multi-million-row table: ducksets against a bare ``COPY`` in the same run.

ducksets runs the very ``COPY`` the pack's ``dataset_export_sql`` builds, into a
temporary directory, then hashes the file (sha256, for the manifest) and moves
it into place; the baseline is ``COPY (SELECT * FROM t) TO ... (FORMAT ...)``
alone. The two alternate, best of 3 each; the ratio is what to read (times on
a shared machine are noisy). pandas and pyarrow writers are timed too when
they are installed (they are not dependencies). Last, the table is exported
again under ``SET memory_limit = '64MB'`` to show the export streams.

Run: .venv/bin/python benchmarks/export.py [ROWS]   (default 5,000,000)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb

from ducksets import Column, StorageConfig, TableSchema, open_gateway
from ducksets.export import (
    export_dataset_to_jsonl,
    export_dataset_to_parquet,
    export_datasets,
)
from ducksets.manifest import file_digest

RUNS = 5
SCHEMA = TableSchema(
    (
        Column("id", "BIGINT", nullable=False),
        Column("label", "VARCHAR"),
        Column("score", "DOUBLE"),
        Column("created_at", "TIMESTAMP"),
        Column("flag", "BOOLEAN"),
        Column("digest", "VARCHAR"),
    )
)
FORMAT_OPTION = {"jsonl": "FORMAT JSON", "parquet": "FORMAT PARQUET"}


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run_sql(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    con.execute(sql).fetchall()  # read the result, so none is left open


def fresh_dir(root: Path, name: str) -> Path:
    directory = root / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    return directory


def compare(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    fmt: str,
    export_one: Callable[..., object],
    hash_seconds_per_mb: float,
) -> None:
    """ducksets (with and without checksums) against a bare COPY, alternating order."""
    target = "COPY (SELECT * FROM bench.events) TO '{}' (" + FORMAT_OPTION[fmt] + ")"
    sides: dict[str, Callable[[Path], object]] = {
        "ducksets": partial(export_one, checksums=True),
        "ducksets, checksums=False": partial(export_one, checksums=False),
        "bare COPY": lambda out: run_sql(con, target.format((out / f"events.{fmt}").as_posix())),
    }
    best = dict.fromkeys(sides, float("inf"))
    for run in range(RUNS):
        for side in sorted(sides, reverse=run % 2 == 1):
            out = fresh_dir(root, "out")
            best[side] = min(best[side], timed(partial(sides[side], out)))
    size = sum(p.stat().st_size for p in (root / "out").iterdir()) / 1e6
    bare = best["bare COPY"]
    print(f"{fmt:8} bare COPY {bare:6.2f}s  ({size:,.0f} MB file; goal: ratio <= 1.10)")
    for side in ("ducksets", "ducksets, checksums=False"):
        print(f"{'':8} {side:<26} {best[side]:6.2f}s  ratio {best[side] / bare:5.2f}")
    print(f"{'':8} (sha256 of the file ~{size * hash_seconds_per_mb:.2f}s)")
    shutil.rmtree(root / "out", ignore_errors=True)


def overhead(con: duckdb.DuckDBPyConnection, root: Path) -> float:
    """Where the extra time goes: building the statement, and hashing the file."""
    build = min(
        timed(
            lambda: con.execute(
                "SELECT metadata.dataset_export_sql(?, fmt := ?, output_dir := ?)",
                ["events", "parquet", root.as_posix()],
            ).fetchall()
        )
        for _ in range(RUNS)
    )
    sample = root / "hash-sample"
    sample.write_bytes(b"x" * 100_000_000)
    hashing = min(timed(lambda: file_digest(sample)) for _ in range(RUNS))
    sample.unlink()
    print(
        f"fixed cost per dataset: dataset_export_sql {build * 1000:.0f} ms; "
        f"sha256 {hashing * 10:.1f} ms per MB"
    )
    return hashing / 100


def compare_dataframe_writers(
    con: duckdb.DuckDBPyConnection, root: Path, copy_seconds: float
) -> None:
    try:
        import pandas  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError as exc:
        print(f"pandas/pyarrow: skipped ({exc.name} is not installed; not a dependency)")
        return
    out = fresh_dir(root, "frames")
    to_arrow = timed(lambda: con.sql("FROM bench.events").arrow())
    table = con.sql("FROM bench.events").arrow()
    parquet = timed(lambda: pq.write_table(table, out / "events.parquet"))
    frame = table.to_pandas()
    jsonl = timed(lambda: frame.to_json(out / "events.jsonl", orient="records", lines=True))
    print(
        f"pyarrow  to_arrow + write_table {to_arrow + parquet:6.2f}s   "
        f"ratio to ducksets parquet {(to_arrow + parquet) / copy_seconds:5.2f}"
    )
    print(f"pandas   to_json(lines=True)     {jsonl:6.2f}s   (from an in-memory frame)")
    shutil.rmtree(out, ignore_errors=True)


def main(rows: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="ducksets-bench-export-"))
    # Not bench.duckdb: a database named like the schema makes "bench.events" ambiguous.
    db = root / "export-benchmark.duckdb"
    try:
        with open_gateway(
            StorageConfig(
                db,
                tables={"bench.events": SCHEMA},
                jsonl={"bench.events": "events.jsonl"},
                parquet={"bench.events": "events.parquet"},
            )
        ) as gateway:
            build = timed(
                lambda: gateway.con.execute(
                    """
                    INSERT INTO bench.events
                    SELECT i, 'label ' || (i % 1000), i / 7, TIMESTAMP '2026-01-01' + to_seconds(i),
                           i % 3 = 0, md5(i::VARCHAR)
                    FROM range(?) AS r(i)
                    """,
                    [rows],
                )
            )
            threads = gateway.con.execute("SELECT current_setting('threads')").fetchall()[0][0]
            print(
                f"duckdb {duckdb.__version__}, {threads} threads; {rows:,} rows x 6 columns "
                f"(built in {build:.1f}s); best of {RUNS}, alternating"
            )
            hash_cost = overhead(gateway.con, root)
            compare(
                gateway.con,
                root,
                "jsonl",
                partial(export_dataset_to_jsonl, gateway, "events"),
                hash_cost,
            )
            compare(
                gateway.con,
                root,
                "parquet",
                partial(export_dataset_to_parquet, gateway, "events"),
                hash_cost,
            )
            out = fresh_dir(root, "out")
            parquet = timed(lambda: export_dataset_to_parquet(gateway, "events", out))
            compare_dataframe_writers(gateway.con, root, parquet)
        larger_than_memory(db, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def larger_than_memory(db: Path, root: Path) -> None:
    config = StorageConfig(
        db, read_only=True, duckdb_config={"memory_limit": "64MB", "threads": "1"}
    )
    with open_gateway(config) as gateway:
        con = gateway.con
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        out = fresh_dir(root, "small-memory")
        start = time.perf_counter()
        result = export_datasets(gateway, out, "jsonl")
        result_parquet = export_datasets(gateway, out, "parquet")
        seconds = time.perf_counter() - start
        written = (*result.written, *result_parquet.written)
        if not (result.ok and result_parquet.ok):
            print(f"memory_limit {limit}: FAILED {result.failed + result_parquet.failed}")
            return
        files = ", ".join(
            f"{f.path.name} {f.bytes / 1e6:,.0f} MB ({f.rows:,} rows)" for f in written
        )
        print(
            f"memory_limit {limit}, database {db.stat().st_size / 1e6:,.0f} MB on disk: "
            f"exported {files} in {seconds:.1f}s (worked)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000)
