"""What one ``dataset_export_sql`` call costs: pack 0.5.0's macro against this pack's.

Both packs are installed side by side in one in-memory database, each in its
own schema with the same catalog rows: pack 0.5.0 (from
``tests/fixtures/pack-0.5.0.sql``, the last release whose macro looked every
field up with its own scalar subquery; 0.4.0's is the same but for an older
key pattern) in ``pack_old`` and the ``macros/`` of this checkout in
``pack_new``. Every dataset's statement is first checked to be
byte-identical in both. Then calls run interleaved (old, new, old, new, ...),
each sample a batch of calls over rotating dataset names, and the script prints
new/old as median [min..max] of the per-pair ratios, with the absolute
milliseconds per call for reference. Almost all of a call is planning: binding
the expanded macro and ordering the joins of its subqueries.

Run: .venv/bin/python benchmarks/export_sql.py [PAIRS] [--candidate FILE.sql]

``--candidate`` replaces the new pack's macro with another definition (written
for the schema ``metadata``, like the pack's files), to try a variant.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

import duckdb

from ducksets import pack_script

ROOT = Path(__file__).resolve().parents[1]
OLD_PACK = ROOT / "tests" / "fixtures" / "pack-0.5.0.sql"
BATCH = 5
CATALOG = [
    ("core.goids", "goids", None, None),
    ('"we""ird.schema"."t; DROP --"', "evil", "it's; DROP.jsonl", "it's.parquet"),
    ('"ünï ✓"."日本 table"', "ünï", None, None),
    ("side.main.t", "three_parts", "t.jsonl", None),
    ('"Mixed".Case', "mixed", None, "mixed.parquet"),
]
CALLS = [(name, fmt) for _, name, _, _ in CATALOG for fmt in ("jsonl", "parquet")]


def render(sql: str, schema: str) -> str:
    """The pack text for another schema (the pack names its schema ``metadata``)."""
    return re.sub(r"\bmetadata\b", schema, sql)


def setup(candidate: Path | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(render(OLD_PACK.read_text(encoding="utf-8"), "pack_old"))
    con.execute(pack_script(pack_schema="pack_new"))
    if candidate is not None:
        con.execute(render(candidate.read_text(encoding="utf-8"), "pack_new"))
    filler = [(f"core.t{i}", f"d{i}", None, None) for i in range(200)]
    for schema in ("pack_old", "pack_new"):
        con.executemany(
            f"INSERT INTO {schema}.datasets VALUES (?, ?, FALSE, ?, ?)", CATALOG + filler
        )
    return con


def statement(schema: str, name: str, fmt: str) -> str:
    literal = name.replace("'", "''")
    return (
        f"SELECT {schema}.dataset_export_sql('{literal}', fmt := '{fmt}', "
        f"output_dir := '/tmp/o''ut')"
    )


def check_identical(con: duckdb.DuckDBPyConnection) -> None:
    for name, fmt in CALLS:
        old = con.execute(statement("pack_old", name, fmt)).fetchall()
        new = con.execute(statement("pack_new", name, fmt)).fetchall()
        if old != new:
            msg = f"{name} ({fmt}): old {old!r} != new {new!r}"
            raise SystemExit(msg)
    print(f"statements byte-identical for {len(CALLS)} calls (names and formats)")


def batch_time(con: duckdb.DuckDBPyConnection, schema: str, start: int) -> float:
    """Seconds per call, over BATCH calls starting at CALLS[start]."""
    sqls = [statement(schema, *CALLS[(start + i) % len(CALLS)]) for i in range(BATCH)]
    began = time.perf_counter()
    for sql in sqls:
        con.execute(sql).fetchall()
    return (time.perf_counter() - began) / BATCH


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pairs", nargs="?", type=int, default=40)
    parser.add_argument("--candidate", type=Path)
    args = parser.parse_args()
    con = setup(args.candidate)
    check_identical(con)
    old_times: list[float] = []
    new_times: list[float] = []
    for pair in range(args.pairs + 2):
        old, new = batch_time(con, "pack_old", pair), batch_time(con, "pack_new", pair)
        if pair >= 2:  # the first pairs warm caches up
            old_times.append(old)
            new_times.append(new)
    ratios = [n / o for o, n in zip(old_times, new_times, strict=True)]
    print(
        f"duckdb {duckdb.__version__}, {args.pairs} interleaved pairs of {BATCH} calls, "
        f"{len(CATALOG) + 200} datasets"
    )
    print(
        f"new / old per call: {statistics.median(ratios):.2f} "
        f"[{min(ratios):.2f}..{max(ratios):.2f}]  (below 1: the new macro is faster)"
    )
    print(
        f"for reference, median ms per call: old {statistics.median(old_times) * 1000:.2f}, "
        f"new {statistics.median(new_times) * 1000:.2f}"
    )


if __name__ == "__main__":
    main()
