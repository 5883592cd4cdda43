"""What ``install_macros`` costs beyond running the pack's own statements.

The baseline is the floor: the pack's install steps (schema, tables,
migrations, macros, record) executed as they are, in one transaction, with no
checks. The subject is ``install_macros``: the same statements plus its
checks (attached and writable database, table shapes, recorded version,
migrations recorded, objects created). Two cases, each timed as interleaved
pairs (baseline, subject, baseline, subject, ...) in one process:

- fresh: a new in-memory database each time (the connection is made outside
  the timing);
- no-op: installing again into a database that has this pack. Past a
  process's first re-install, ``install_macros`` re-creates only the macros
  that are missing or differ from the pack's (none here), while the baseline
  runs every statement: a ratio below 1 is expected.

It prints each median in ms and the ratio subject / baseline as
median [min..max] over the pairs.

Run: .venv/bin/python benchmarks/install.py [PAIRS]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import duckdb

from ducksets import install_macros
from ducksets.pack import pack_steps

PAIRS = 15


STATEMENTS = tuple(step.sql for step in pack_steps())


def bare_install(con: duckdb.DuckDBPyConnection) -> None:
    """The pack's statements (read once) in one transaction, without ducksets' checks."""
    con.execute("BEGIN TRANSACTION")
    for sql in STATEMENTS:
        con.execute(sql)
    con.execute("COMMIT")


def timed(
    call: Callable[[duckdb.DuckDBPyConnection], object], con: duckdb.DuckDBPyConnection
) -> float:
    start = time.perf_counter()
    call(con)
    return (time.perf_counter() - start) * 1000


def pairs(case: str, make: Callable[[], duckdb.DuckDBPyConnection], count: int) -> None:
    baseline: list[float] = []
    subject: list[float] = []
    for _ in range(count):
        baseline.append(timed(bare_install, make()))
        subject.append(timed(install_macros, make()))
    ratios = sorted(s / b for s, b in zip(subject, baseline, strict=True))
    print(
        f"{case:7} bare {statistics.median(baseline):6.1f} ms   "
        f"install_macros {statistics.median(subject):6.1f} ms   "
        f"ratio {statistics.median(ratios):.2f} [{ratios[0]:.2f}..{ratios[-1]:.2f}]"
    )


def main(count: int = PAIRS) -> None:
    installed = duckdb.connect()
    install_macros(installed)  # warm: the pack files read and the first shape check done
    pairs("fresh", duckdb.connect, count)
    pairs("no-op", lambda: installed, count)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else PAIRS)
