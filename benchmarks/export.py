"""Exports against a bare ``COPY`` in the same run: one large dataset, several, many tiny ones.

ducksets runs the very ``COPY`` the pack's ``dataset_export_sql`` builds, into a
staging directory, hashes the file (sha256, for the manifest; the hash of one
file runs beside the next COPY) and publishes it; the baseline is
``COPY (SELECT * FROM t) TO ... (FORMAT ...)`` alone. Every comparison runs
its sides interleaved (A B A B ...), each as often, and prints each side's
ratio to the baseline as median [min..max] (times on a shared machine are
noisy; ratios are what to read). Goals (issue 11): one large dataset with
checksums <= 1.20x; a multi-dataset run with checksums <= 1.10x the same run
without; 200 tiny datasets <= 1.2x a bare COPY loop. pandas and pyarrow
writers are timed too when they are installed (they are not dependencies).
Then the peak memory (``ru_maxrss``) of a process exporting the table, against
one running the bare COPY, interleaved (goal <= 1.05x). Last, the table is
exported again under ``memory_limit = '64MB'`` to show the export streams.

Run: .venv/bin/python benchmarks/export.py [ROWS] [RUNS]   (default 5,000,000 rows, 5 runs)
Only part of it: ``... export.py tiny [RUNS]`` (200 tiny datasets; ``phases [RUNS]``: where
that run spends its time, by monkeypatched timers),
``... export.py multi [ROWS] [RUNS]`` (several datasets, with vs without checksums),
``... export.py one [ROWS] [RUNS]`` (one large dataset, with vs without checksums, and
the peak memory).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb

from ducksets import Column, Gateway, StorageConfig, TableSchema, open_gateway, register_dataset
from ducksets import _hashing as hashing
from ducksets._hashing import file_digest
from ducksets.export import (
    export_dataset_to_jsonl,
    export_dataset_to_parquet,
    export_datasets,
)

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


def interleaved(
    root: Path, sides: dict[str, Callable[[Path], object]], runs: int
) -> dict[str, list[float]]:
    """Each side's times, run A B A B ... into a fresh directory each time."""
    times: dict[str, list[float]] = {side: [] for side in sides}
    for _ in range(runs):
        for side, action in sides.items():
            out = fresh_dir(root, "out")
            times[side].append(timed(partial(action, out)))
    shutil.rmtree(root / "out", ignore_errors=True)
    return times


def ratio(times: dict[str, list[float]], side: str, baseline: str) -> str:
    ratios = [a / b for a, b in zip(times[side], times[baseline], strict=True)]
    return f"{statistics.median(ratios):5.2f}x [{min(ratios):.2f}..{max(ratios):.2f}]"


def compare(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    fmt: str,
    export_one: Callable[..., object],
) -> float:
    """ducksets (with and without checksums) against a bare COPY; the COPY's median time."""
    target = "COPY (SELECT * FROM bench.events) TO '{}' (" + FORMAT_OPTION[fmt] + ")"
    sides: dict[str, Callable[[Path], object]] = {
        "bare COPY": lambda out: run_sql(con, target.format((out / f"events.{fmt}").as_posix())),
        "ducksets": partial(export_one, checksums=True),
        "ducksets, checksums=False": partial(export_one, checksums=False),
        "ducksets, hashed after": partial(hashed_after_copy, export_one),
    }
    times = interleaved(root, sides, RUNS)
    bare = statistics.median(times["bare COPY"])
    print(f"{fmt:8} one dataset: bare COPY {bare:6.2f}s (median); ratio to it:")
    for side in ("ducksets", "ducksets, checksums=False", "ducksets, hashed after"):
        print(f"{'':8} {side:<26} {ratio(times, side, 'bare COPY')}")
    print(f"{'':8} with checksums, ratio to without (goal <= 1.20):")
    without = "ducksets, checksums=False"
    after = ratio(times, "ducksets, hashed after", without)
    print(f"{'':8}   hashed while written (ducksets) {ratio(times, 'ducksets', without)}")
    print(f"{'':8}   hashed after the COPY (0.6)     {after}")
    return bare


def hashed_after_copy(export_one: Callable[..., object], out: Path) -> None:
    """The export as before the tail: each file hashed once its COPY has returned."""
    hashing.TAILING = False
    try:
        export_one(out, checksums=True)
    finally:
        hashing.TAILING = True


# One process doing one thing to the table, then printing its peak RSS in KiB
# (Linux ru_maxrss). Both sides open the database through ducksets the same way.
_MEMORY_SCRIPT = """
import resource, sys
from pathlib import Path
from ducksets import StorageConfig, open_gateway
from ducksets.export import export_datasets
db, out, fmt, side = sys.argv[1:]
option = {"jsonl": "FORMAT JSON", "parquet": "FORMAT PARQUET"}[fmt]
with open_gateway(StorageConfig(db, read_only=True)) as gateway:
    if side == "bare COPY":
        gateway.con.execute(
            f"COPY (SELECT * FROM bench.events) TO '{out}/events.{fmt}' ({option})"
        ).fetchall()
    else:
        result = export_datasets(gateway, Path(out), fmt, ["events"])
        assert result.ok and result.written[0].sha256, result
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_memory(db: Path, root: Path) -> None:
    """Peak RSS of a process exporting the table (with checksums), against the bare COPY's."""
    for fmt in ("jsonl", "parquet"):
        peaks: dict[str, list[float]] = {"bare COPY": [], "ducksets": []}
        for _ in range(RUNS):
            for side, values in peaks.items():
                out = fresh_dir(root, "out")
                run = subprocess.run(
                    [sys.executable, "-c", _MEMORY_SCRIPT, str(db), str(out), fmt, side],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                values.append(float(run.stdout.split()[-1]))
        ratios = [a / b for a, b in zip(peaks["ducksets"], peaks["bare COPY"], strict=True)]
        print(
            f"{fmt:8} peak RSS: bare COPY {statistics.median(peaks['bare COPY']) / 1024:,.0f} MiB, "
            f"ducksets {statistics.median(peaks['ducksets']) / 1024:,.0f} MiB (medians); "
            f"ratio (goal <= 1.05): {statistics.median(ratios):.3f}x "
            f"[{min(ratios):.3f}..{max(ratios):.3f}]"
        )
    shutil.rmtree(root / "out", ignore_errors=True)


def multi_dataset(gateway: Gateway, root: Path, parts: int = 8) -> None:
    """A run of several datasets with checksums against the same run without them."""
    con = gateway.con
    for i in range(parts):
        con.execute(
            f"CREATE OR REPLACE TABLE bench.part{i} AS "
            f"SELECT * FROM bench.events WHERE id % {parts} = {i}"
        )
        register_dataset(
            con,
            f"bench.part{i}",
            jsonl_filename=f"part{i}.jsonl",
            parquet_filename=f"part{i}.parquet",
        )
    gateway.refresh()
    names = [f"part{i}" for i in range(parts)]
    for fmt in ("jsonl", "parquet"):
        sides: dict[str, Callable[[Path], object]] = {
            "checksums=False": lambda out, f=fmt: export_datasets(
                gateway, out, f, names, checksums=False
            ),
            "checksums=True": lambda out, f=fmt: export_datasets(gateway, out, f, names),
        }
        times = interleaved(root, sides, RUNS)
        print(
            f"{fmt:8} {parts} datasets: with checksums, ratio to without (goal <= 1.10): "
            f"{ratio(times, 'checksums=True', 'checksums=False')}"
        )


def bare_copy_loop(cursor: duckdb.DuckDBPyConnection, keys: list[str], out: Path) -> None:
    """The baseline of the tiny runs: one bare COPY per table, to ``<key>.parquet``."""
    for key in keys:
        target = (out / f"{key}.parquet").as_posix()
        run_sql(cursor, f"COPY (SELECT * FROM {key}) TO '{target}' (FORMAT PARQUET)")


def many_tiny(root: Path, count: int = 200) -> None:
    """``count`` two-row datasets: one ducksets run against a loop of bare COPYs."""
    schema = TableSchema((Column("id", "BIGINT"), Column("label", "VARCHAR")))
    keys = [f"tiny.t{i:03d}" for i in range(count)]
    config = StorageConfig(
        root / "many-tiny.duckdb",  # not tiny.duckdb: a database named like the schema is ambiguous
        tables=dict.fromkeys(keys, schema),
        parquet={key: f"{key}.parquet" for key in keys},
    )
    with open_gateway(config) as gateway:
        for key in keys:
            gateway.con.execute(f"INSERT INTO {key} VALUES (1, 'a'), (2, 'b')")
        cursor = gateway.con.cursor()
        sides: dict[str, Callable[[Path], object]] = {
            "bare COPY loop": partial(bare_copy_loop, cursor, keys),
            "ducksets": lambda out: export_datasets(gateway, out, "parquet"),
        }
        times = interleaved(root, sides, RUNS)
        per = statistics.median(times["ducksets"]) - statistics.median(times["bare COPY loop"])
        print(
            f"parquet  {count} tiny datasets: ratio to a bare COPY loop (goal <= 1.2): "
            f"{ratio(times, 'ducksets', 'bare COPY loop')}; fixed cost {per * 1000:.1f} ms "
            f"a run, {per / count * 1e6:.0f} us per dataset (medians)"
        )


# What ``tiny_phases`` times: (module, owner in it or None, function, label).
_PHASES = (
    ("ducksets.export", None, "plan_run", "plan_run (catalog rows, file names)"),
    ("ducksets.export", None, "check_targets", "check_targets (before, and under the lock)"),
    ("ducksets.export", None, "open_staging", "open_staging"),
    ("ducksets._export_copy", "Stager", "_statements", "the pack's statements (one query)"),
    ("ducksets._export_copy", "Stager", "_snapshot", "BEGIN + snapshot query (keys, comments)"),
    ("ducksets.export", None, "_outcomes", "staging: every COPY and its file"),
    ("ducksets._hashing", "Tail", "writer_done", "  of which: hashing small files at once"),
    ("ducksets.export", None, "installed_version", "installed_version"),
    ("ducksets.export", None, "_publish", "publish (manifest, renames)"),
    ("ducksets.export", None, "manifest_text", "  of which: manifest_text"),
    ("ducksets.export", None, "write_new", "  of which: write_new (fsync)"),
    ("ducksets.export", None, "publish", "  of which: the renames"),
    ("ducksets._staging", "Staging", "close", "Staging.close"),
)


def tiny_phases(root: Path, count: int = 200) -> None:
    """Where a run of ``count`` tiny datasets spends its time: monkeypatched timers, medians."""
    import importlib

    spent: dict[str, float] = {}

    def timer(function: Callable[..., object], label: str) -> Callable[..., object]:
        def timed_call(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - start

        return timed_call

    for module_name, owner_name, name, label in _PHASES:
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        setattr(owner, name, timer(getattr(owner, name), label))
    schema = TableSchema((Column("id", "BIGINT"), Column("label", "VARCHAR")))
    keys = [f"tiny.t{i:03d}" for i in range(count)]
    config = StorageConfig(
        root / "many-tiny.duckdb",
        tables=dict.fromkeys(keys, schema),
        parquet={key: f"{key}.parquet" for key in keys},
    )
    runs: list[dict[str, float]] = []
    with open_gateway(config) as gateway:
        for key in keys:
            gateway.con.execute(f"INSERT INTO {key} VALUES (1, 'a'), (2, 'b')")
        cursor = gateway.con.cursor()
        for _ in range(RUNS):
            out = fresh_dir(root, "out")
            spent.clear()
            bare = timed(partial(bare_copy_loop, cursor, keys, out))
            out = fresh_dir(root, "out")
            total = timed(lambda out=out: export_datasets(gateway, out, "parquet"))
            staging = spent["staging: every COPY and its file"]
            hashing = spent["  of which: hashing small files at once"]
            runs.append(
                {
                    **spent,
                    "bare COPY loop": bare,
                    "ducksets, whole run": total,
                    "  of which: not COPY nor hash (~Python)": staging - bare - hashing,
                }
            )
    shutil.rmtree(root / "out", ignore_errors=True)
    print(f"parquet  {count} tiny datasets, ms per run (medians of {RUNS}; timers add a little):")
    labels = [phase[3] for phase in _PHASES]
    labels.insert(labels.index("installed_version"), "  of which: not COPY nor hash (~Python)")
    for label in ("bare COPY loop", "ducksets, whole run", *labels):
        print(f"  {label:<45} {statistics.median(r.get(label, 0.0) for r in runs) * 1000:7.2f}")


def overhead(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Where the extra time goes: building the statement, and hashing the file."""
    build = statistics.median(
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
    hashing = statistics.median(timed(lambda: file_digest(sample)) for _ in range(RUNS))
    sample.unlink()
    print(
        f"dataset_export_sql {build * 1000:.1f} ms per call (median); "
        f"sha256 {hashing * 10:.1f} ms per MB"
    )


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
    # DuckDB 2.0's .arrow() is a RecordBatchReader; to_arrow_table() is a Table on 1.x and 2.x.
    to_arrow = timed(lambda: con.sql("FROM bench.events").to_arrow_table())
    table = con.sql("FROM bench.events").to_arrow_table()
    parquet = timed(lambda: pq.write_table(table, out / "events.parquet"))
    frame = table.to_pandas()
    jsonl = timed(lambda: frame.to_json(out / "events.jsonl", orient="records", lines=True))
    print(
        f"pyarrow  to_arrow + write_table {to_arrow + parquet:6.2f}s   "
        f"ratio to the bare parquet COPY {(to_arrow + parquet) / copy_seconds:5.2f}"
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
                f"(built in {build:.1f}s); {RUNS} interleaved runs"
            )
            overhead(gateway.con, root)
            compare(gateway.con, root, "jsonl", partial(export_dataset_to_jsonl, gateway, "events"))
            parquet = compare(
                gateway.con, root, "parquet", partial(export_dataset_to_parquet, gateway, "events")
            )
            compare_dataframe_writers(gateway.con, root, parquet)
            multi_dataset(gateway, root)
        peak_memory(db, root)
        many_tiny(root)
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


def only_multi(rows: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="ducksets-bench-export-"))
    config = StorageConfig(root / "export-benchmark.duckdb", tables={"bench.events": SCHEMA})
    try:
        with open_gateway(config) as gateway:
            gateway.con.execute(
                "INSERT INTO bench.events SELECT i, 'label ' || (i % 1000), i / 7, "
                "TIMESTAMP '2026-01-01' + to_seconds(i), i % 3 = 0, md5(i::VARCHAR) "
                "FROM range(?) AS r(i)",
                [rows],
            )
            print(f"duckdb {duckdb.__version__}; {rows:,} rows in 8 parts; {RUNS} interleaved runs")
            multi_dataset(gateway, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def only_one(rows: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="ducksets-bench-export-"))
    db = root / "export-benchmark.duckdb"
    config = StorageConfig(
        db,
        tables={"bench.events": SCHEMA},
        jsonl={"bench.events": "events.jsonl"},
        parquet={"bench.events": "events.parquet"},
    )
    try:
        with open_gateway(config) as gateway:
            gateway.con.execute(
                "INSERT INTO bench.events SELECT i, 'label ' || (i % 1000), i / 7, "
                "TIMESTAMP '2026-01-01' + to_seconds(i), i % 3 = 0, md5(i::VARCHAR) "
                "FROM range(?) AS r(i)",
                [rows],
            )
            print(f"duckdb {duckdb.__version__}; {rows:,} rows; {RUNS} interleaved runs")
            compare(gateway.con, root, "jsonl", partial(export_dataset_to_jsonl, gateway, "events"))
            compare(
                gateway.con, root, "parquet", partial(export_dataset_to_parquet, gateway, "events")
            )
        peak_memory(db, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def only_tiny(measure: Callable[[Path], None] = many_tiny) -> None:
    root = Path(tempfile.mkdtemp(prefix="ducksets-bench-export-"))
    try:
        print(f"duckdb {duckdb.__version__}; {RUNS} interleaved runs")
        measure(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    part = args.pop(0) if args and args[0] in ("tiny", "phases", "multi", "one") else None
    if part == "tiny":
        RUNS = int(args[0]) if args else RUNS
        only_tiny()
    elif part == "phases":
        RUNS = int(args[0]) if args else RUNS
        only_tiny(tiny_phases)
    else:
        RUNS = int(args[1]) if len(args) > 1 else RUNS
        rows = int(args[0]) if args else 5_000_000
        {"multi": only_multi, "one": only_one}.get(part or "", main)(rows)
