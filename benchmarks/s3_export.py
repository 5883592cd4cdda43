"""An export to S3 (moto) against a bare ``COPY ... TO 's3://...'`` in the same process.

ducksets lists the prefix, reads the live package, removes orphans, runs the
pack's verified ``COPY`` into ``<prefix>/<run-id>/`` through an s3fs file
system that hashes the bytes on their way (sha256 and size for the package),
then writes ``datapackage.json``. The baseline registers a plain s3fs file
system with the same settings and runs ``COPY (SELECT * FROM t) TO
's3://bucket/bare/...' (FORMAT ...)`` alone. Both sides run interleaved (A B A
B ...), each as often; the objects are deleted after each run, untimed (moto
keeps them in memory). A third side shows the other way to checksums: the bare
COPY, then the object streamed back and hashed. Printed: each side's ratio to
the bare COPY of its run, median [min..max]. Goal (issue 12): export <= 1.15x.

Run: .venv/bin/python benchmarks/s3_export.py [ROWS] [RUNS]   (default 5,000,000 rows, 5 runs)
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from ducksets import Column, StorageConfig, TableSchema, open_gateway
from ducksets._s3 import ObjectStore, filesystem_options, parse_s3_url
from ducksets.export import export_datasets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from s3_server import MotoServer, moto_server

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
FORMAT_OPTION = {"jsonl": "JSON", "parquet": "PARQUET"}


def empty_bucket(server: MotoServer, bucket: str) -> None:
    client = server.client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", ())]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main(rows: int, runs: int) -> None:
    import s3fs

    with moto_server() as server:
        os.environ.update(server.environment())
        bucket = server.new_bucket()
        with open_gateway(
            StorageConfig(
                ":memory:",
                tables={"bench.events": SCHEMA},
                jsonl={"bench.events": "events.jsonl"},
                parquet={"bench.events": "events.parquet"},
            )
        ) as gateway:
            gateway.con.execute(
                "INSERT INTO bench.events SELECT i, 'label ' || (i % 1000), i / 7, "
                "TIMESTAMP '2026-01-01' + to_seconds(i), i % 3 = 0, md5(i::VARCHAR) "
                "FROM range(?) AS r(i)",
                [rows],
            )
            cursor = gateway.con.cursor()
            print(f"duckdb {duckdb.__version__}; {rows:,} rows to moto S3; {runs} interleaved runs")
            for fmt in ("parquet", "jsonl"):

                def bare(fmt: str = fmt) -> None:
                    cursor.register_filesystem(s3fs.S3FileSystem(**filesystem_options()))
                    try:
                        cursor.execute(
                            f"COPY (SELECT * FROM bench.events) TO "
                            f"'s3://{bucket}/bare/events.{fmt}' (FORMAT {FORMAT_OPTION[fmt]})"
                        ).fetchall()
                    finally:
                        cursor.unregister_filesystem("s3")

                def readback(fmt: str = fmt) -> None:
                    # The other way to checksums: bare COPY, then stream the object back.
                    bare(fmt)
                    store = ObjectStore(
                        parse_s3_url(f"s3://{bucket}/bare"),
                        s3fs.S3FileSystem(**filesystem_options()),
                    )
                    store.digest(f"events.{fmt}")

                def export(fmt: str = fmt) -> None:
                    result = export_datasets(gateway, f"s3://{bucket}/ducksets", fmt)
                    assert result.ok and result.written[0].sha256 is not None

                sides = {"bare": bare, "export": export, "readback": readback}
                times: dict[str, list[float]] = {side: [] for side in sides}
                for _ in range(runs):
                    for side, action in sides.items():
                        times[side].append(timed(action))
                        empty_bucket(server, bucket)
                print(f"  {fmt}: bare COPY {statistics.median(times['bare']):6.2f}s (median)")
                for side, label in (("export", "ducksets export"), ("readback", "COPY+read back")):
                    ratios = [t / b for t, b in zip(times[side], times["bare"], strict=True)]
                    print(
                        f"    {label:<16} {statistics.median(times[side]):6.2f}s  "
                        f"ratio {statistics.median(ratios):.3f}x "
                        f"[{min(ratios):.3f}..{max(ratios):.3f}]"
                        + ("  (goal <= 1.15x)" if side == "export" else "")
                    )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 5,
    )
