"""The catalog on real DuckLake: writes, two processes, races and duplicates.

DuckLake has no PRIMARY KEY/UNIQUE, and two transactions that INSERT the same
new row both commit (nothing conflicts between two appends). ducksets' writes
take the catalog's write lock in their transaction, so one of two concurrent
registrations waits and then updates the winner's row or refuses a name the
winner took. Duplicates written by SQL show in ``catalog_drift``.

A DuckLake whose catalog is a DuckDB file can be attached by one process at a
time (DuckDB locks the file): other processes take turns, and concurrent
writers there are threads. A SQLite catalog takes several processes at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

import duckdb
import pytest

from conftest import Lake
from ducksets import (
    CatalogConflictError,
    InvalidArgumentError,
    catalog_drift,
    install_macros,
    load_dataset_registry,
    register_dataset,
    sync_catalog,
    unregister_dataset,
)
from ducksets._catalog_lock import write_catalog
from ducksets.catalog import CatalogRow, write_rows

# One process's work: attach the lake, wait for the common start, register
# keys every process registers (the same key) and keys of its own that want
# one name; print each outcome. argv: attach SQL, extensions, start, rounds, id.
WORKER = r"""
import json, sys, time
import duckdb, duckdb_extensions
from ducksets import CatalogConflictError, InvalidArgumentError, register_dataset

attach_sql, extensions, start, rounds, me = sys.argv[1:6]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")  # stdout carries the outcomes
for extension in extensions.split(","):
    duckdb_extensions.import_extension(extension, con=con)
con.execute(attach_sql)
con.execute("USE lake")
time.sleep(max(0.0, float(start) - time.time()))
outcomes = []
for j in range(int(rounds)):
    for key, name in ((f"core.k{j}", f"k{j}"), (f"core.n{j}_{me}", f"n{j}")):
        try:
            register_dataset(con, key, name=name, is_view=False, jsonl_filename=f"{me}.jsonl")
            outcomes.append("written")
        except InvalidArgumentError:
            outcomes.append("name taken")
        except CatalogConflictError:
            outcomes.append("conflict, retry")
        except Exception as exc:
            outcomes.append(f"{type(exc).__name__}: {exc}")
print(json.dumps(outcomes))
"""

ALLOWED = {"written", "name taken", "conflict, retry"}


def start_workers(lake: Lake, count: int, rounds: int) -> list[subprocess.Popen[str]]:
    start = time.time() + 4.0  # every process attached and its pack check done by then
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                lake.attach_sql,
                ",".join(lake.extensions),
                str(start),
                str(rounds),
                str(me),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in range(count)
    ]


def outcomes_of(workers: list[subprocess.Popen[str]]) -> Counter[str]:
    counted: Counter[str] = Counter()
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err
        counted.update(json.loads(out.strip().splitlines()[-1]))
    return counted


def duplicates(con: duckdb.DuckDBPyConnection) -> list[Any]:
    return [i for i in catalog_drift(con) if i.drift in ("duplicate_key", "duplicate_name")]


def test_register_sync_unregister_and_drift(any_ducklake_con: duckdb.DuckDBPyConnection) -> None:
    con = any_ducklake_con
    install_macros(con)
    con.execute(
        "CREATE SCHEMA core; CREATE TABLE core.t AS SELECT 1 AS a; "
        "CREATE VIEW core.v AS SELECT a FROM core.t; CREATE TABLE core.u (a INTEGER)"
    )
    assert register_dataset(con, "core.t") == "core.t"
    assert register_dataset(con, "CORE.T", jsonl_filename="t.jsonl") == "core.t"
    with pytest.raises(InvalidArgumentError, match="'t' would belong to both"):
        register_dataset(con, "core.u", name="t")
    report = sync_catalog(con, ["core"])
    assert (report.added, report.left) == (("core.u", "core.v"), ("core.t",))
    assert con.execute("FROM metadata.datasets ORDER BY table_key").fetchall() == [
        ("core.t", "t", False, "t.jsonl", None),
        ("core.u", "u", False, None, None),
        ("core.v", "v", True, None, None),
    ]
    assert catalog_drift(con).in_sync
    assert unregister_dataset(con, "u") == "core.u"
    assert [i.drift for i in catalog_drift(con)] == ["unregistered_relation"]
    register_dataset(con, "core.u")
    # Duplicates SQL lets into a catalog without constraints show as drift.
    con.execute(
        "INSERT INTO metadata.datasets VALUES "
        "('Core.T', 'other_t', FALSE, NULL, NULL), ('core.w', 'u', FALSE, NULL, NULL)"
    )
    drift = [(i.table_key, i.drift) for i in catalog_drift(con)]
    assert ("Core.T", "duplicate_key") in drift and ("core.t", "duplicate_key") in drift
    assert ("core.u", "duplicate_name") in drift and ("core.w", "duplicate_name") in drift
    rows = con.execute("SELECT drift FROM metadata.catalog_drift()").fetchall()
    assert {"duplicate_key", "duplicate_name"} <= {r[0] for r in rows}


def test_one_process_registers_and_the_other_reads_it(ducklake_sqlite_catalog: Lake) -> None:
    lake = ducklake_sqlite_catalog
    reader = lake.connect()
    install_macros(reader)
    assert load_dataset_registry(reader).by_name == {}
    outcomes = outcomes_of(start_workers(lake, 1, 1))
    assert outcomes == Counter({"written": 2})
    registry = load_dataset_registry(reader)  # the reader's next read sees it
    assert sorted(registry.by_name) == ["k0", "n0"]
    register_dataset(reader, "core.mine", is_view=False)
    other = subprocess.run(
        [sys.executable, "-c", READ_NAMES, lake.attach_sql, ",".join(lake.extensions)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(other.stdout.strip().splitlines()[-1]) == ["k0", "mine", "n0"]
    reader.close()


READ_NAMES = r"""
import json, sys
import duckdb, duckdb_extensions
from ducksets import load_dataset_registry
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
for extension in sys.argv[2].split(","):
    duckdb_extensions.import_extension(extension, con=con)
con.execute(sys.argv[1])
con.execute("USE lake")
print(json.dumps(sorted(load_dataset_registry(con).by_name)))
"""


def test_processes_take_turns_on_a_duckdb_file_catalog(ducklake_catalog: Lake) -> None:
    lake = ducklake_catalog
    con = lake.connect()
    install_macros(con)
    second = subprocess.run(
        [sys.executable, "-c", READ_NAMES, lake.attach_sql, ",".join(lake.extensions)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert second.returncode != 0 and "lock" in second.stderr  # DuckDB locks the file
    con.execute("USE memory")
    con.execute("DETACH lake")
    assert outcomes_of(start_workers(lake, 1, 1)) == Counter({"written": 2})
    con.execute(lake.attach_sql)
    con.execute("USE lake")
    assert sorted(load_dataset_registry(con).by_name) == ["k0", "n0"]
    con.close()


def test_concurrent_registrations_from_processes_leave_no_duplicate(
    ducklake_sqlite_catalog: Lake,
) -> None:
    lake = ducklake_sqlite_catalog
    con = lake.connect()
    install_macros(con)
    con.close()  # the workers alone write
    rounds = 4
    outcomes = outcomes_of(start_workers(lake, 3, rounds))
    assert set(outcomes) <= ALLOWED, outcomes
    assert outcomes["written"] >= 2 * rounds
    con = lake.connect()
    assert duplicates(con) == []
    names = con.execute("SELECT name FROM metadata.datasets ORDER BY name").fetchall()
    assert [n for (n,) in names if n.startswith("k")] == [f"k{j}" for j in range(rounds)]
    assert [n for (n,) in names if n.startswith("n")] == [f"n{j}" for j in range(rounds)]
    con.close()


def test_concurrent_registrations_from_threads_on_a_duckdb_file_catalog(
    ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    install_macros(ducklake_con)
    cursors = [ducklake_con.cursor() for _ in range(4)]
    for cursor in cursors:
        cursor.execute("USE lake")
    rounds = 8
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(cursors))

    def register(me: int) -> None:
        for j in range(rounds):
            barrier.wait()
            for key, name in ((f"core.k{j}", f"k{j}"), (f"core.n{j}_{me}", f"n{j}")):
                try:
                    register_dataset(cursors[me], key, name=name, is_view=False)
                    outcome = "written"
                except InvalidArgumentError:
                    outcome = "name taken"
                except CatalogConflictError:
                    outcome = "conflict, retry"
                except Exception as exc:
                    outcome = f"{type(exc).__name__}: {exc}"
                with lock:
                    outcomes[outcome] += 1

    threads = [threading.Thread(target=register, args=(me,)) for me in range(len(cursors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(outcomes) <= ALLOWED, outcomes
    assert outcomes["written"] >= 2 * rounds
    assert duplicates(ducklake_con) == []
    count = ducklake_con.execute("SELECT count(*) FROM metadata.datasets").fetchone()
    assert count == (2 * rounds,)


# Registers core.k as another writer; prints its outcome. argv: attach SQL, extensions.
REGISTER_K = r"""
import sys
import duckdb, duckdb_extensions
from ducksets import CatalogConflictError, register_dataset
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
for extension in sys.argv[2].split(","):
    duckdb_extensions.import_extension(extension, con=con)
con.execute(sys.argv[1])
con.execute("USE lake")
try:
    register_dataset(con, "core.k", name="k", is_view=False, jsonl_filename="other.jsonl")
    print("written")
except CatalogConflictError:
    print("conflict, retry")
"""


def write_k_while(con: duckdb.DuckDBPyConnection, other_writes: Any) -> int:
    """Register core.k through write_catalog; in its first attempt, before it
    commits, ``other_writes()`` registers core.k too. Returns the attempts made."""
    attempts = []

    def write() -> tuple[str, ...]:
        attempts.append(1)
        row = CatalogRow("core.k", "k", False, "mine.jsonl", None, None)
        keys = write_rows(con, [row], "metadata")
        if len(attempts) == 1:
            other_writes()
        return keys

    write_catalog(con, "metadata", write, subject="core.k")
    return len(attempts)


def test_a_registration_racing_an_open_write_waits_or_loses_never_duplicates(
    ducklake_sqlite_catalog: Lake,
) -> None:
    """SQLite catalog: the other process meets the open write's lock and gives up cleanly."""
    lake = ducklake_sqlite_catalog
    con = lake.connect()
    install_macros(con)
    outcome: list[str] = []

    def other_process_registers() -> None:
        done = subprocess.run(
            [sys.executable, "-c", REGISTER_K, lake.attach_sql, ",".join(lake.extensions)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        outcome.append(done.stdout.strip().splitlines()[-1])

    assert write_k_while(con, other_process_registers) == 1
    assert outcome == ["conflict, retry"]
    rows = con.execute("SELECT table_key, name, jsonl_filename FROM metadata.datasets")
    assert rows.fetchall() == [("core.k", "k", "mine.jsonl")]
    con.close()


def test_a_registration_that_commits_first_wins_and_the_open_write_updates_it(
    ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    """DuckDB-file catalog: the other writer commits first; the open write runs
    again, sees its row and updates it (two INSERTs would both commit)."""
    install_macros(ducklake_con)
    other = ducklake_con.cursor()
    other.execute("USE lake")
    outcome: list[str] = []

    def other_thread_registers() -> None:
        def register() -> None:
            register_dataset(other, "core.k", name="k", is_view=False, jsonl_filename="o.jsonl")
            outcome.append("written")

        thread = threading.Thread(target=register)
        thread.start()
        thread.join()

    assert write_k_while(ducklake_con, other_thread_registers) == 2
    assert outcome == ["written"]
    rows = ducklake_con.execute("SELECT table_key, name, jsonl_filename FROM metadata.datasets")
    assert rows.fetchall() == [("core.k", "k", "mine.jsonl")]
    assert duplicates(ducklake_con) == []
