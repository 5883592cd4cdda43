"""Sharing ducksets between threads, the normal case in a web backend.

One ``DatasetQueryService`` serves every thread: each page must hold its own
dataset's rows, and no call may fail because another thread uses the
connection. Concurrent registrations of one key either succeed (after a
bounded retry) or raise ``CatalogConflictError``; no raw DuckDB error escapes.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import duckdb

from ducksets import (
    CatalogConflictError,
    DatasetQueryService,
    InvalidArgumentError,
    StorageConfig,
    TableSchema,
    dataset_relation,
    install_macros,
    open_gateway,
    register_dataset,
)
from ducksets.schema import Column

THREADS = 4
ROWS = 400
PAGE = 40
ROUNDS = 5  # each thread reads its dataset this many times: 4 x 5 x 10 = 200 pages


def run_threads(work: Callable[[int], None], count: int = THREADS) -> None:
    """Run ``work(i)`` in ``count`` threads started together; re-raise nothing (work records)."""
    barrier = threading.Barrier(count)

    def start(i: int) -> None:
        barrier.wait()
        work(i)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_one_service_shared_by_threads_serves_each_its_own_rows(tmp_path: Path) -> None:
    schema = TableSchema((Column("owner", "INTEGER"), Column("n", "INTEGER")))
    tables = {f"main.ds{i}": schema for i in range(THREADS)}
    with open_gateway(StorageConfig(tmp_path / "app.duckdb", tables=tables)) as gateway:
        for i in range(THREADS):
            gateway.con.execute(f"INSERT INTO main.ds{i} SELECT {i}, range FROM range({ROWS})")
        service = DatasetQueryService(gateway)
        outcomes: Counter[str] = Counter()
        lock = threading.Lock()

        def read_pages(i: int) -> None:
            for _ in range(ROUNDS):
                for offset in range(0, ROWS, PAGE):
                    try:
                        page = service.read_dataset_rows(
                            dataset_name=f"ds{i}", limit=PAGE, offset=offset
                        )
                        expected = [{"owner": i, "n": n} for n in range(offset, offset + PAGE)]
                        outcome = "right" if list(page.rows) == expected else "wrong page"
                    except Exception as exc:
                        outcome = f"{type(exc).__name__}: {exc}"
                    with lock:
                        outcomes[outcome] += 1

        run_threads(read_pages)
    assert outcomes == Counter({"right": THREADS * ROUNDS * (ROWS // PAGE)})


def test_dataset_relation_on_a_cursor_per_thread(tmp_path: Path) -> None:
    schema = TableSchema((Column("owner", "INTEGER"),))
    tables = {f"main.ds{i}": schema for i in range(THREADS)}
    with open_gateway(StorageConfig(tmp_path / "app.duckdb", tables=tables)) as gateway:
        for i in range(THREADS):
            gateway.con.execute(f"INSERT INTO main.ds{i} SELECT {i} FROM range({ROWS})")
        outcomes: Counter[str] = Counter()
        lock = threading.Lock()

        def read(i: int) -> None:
            for _ in range(ROUNDS * 4):
                cursor = gateway.cursor()
                try:
                    owners = dataset_relation(cursor, f"ds{i}").aggregate("list(DISTINCT owner)")
                    outcome = "right" if owners.fetchall() == [([i],)] else "wrong rows"
                except Exception as exc:
                    outcome = f"{type(exc).__name__}: {exc}"
                finally:
                    cursor.close()
                with lock:
                    outcomes[outcome] += 1

        run_threads(read)
    assert outcomes == Counter({"right": THREADS * ROUNDS * 4})


def upsert_outcomes(connections: list[duckdb.DuckDBPyConnection], calls: int) -> Counter[str]:
    """Register one key from each connection ``calls`` times at once; count the outcomes."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def register(i: int) -> None:
        for j in range(calls):
            try:
                register_dataset(
                    connections[i], "main.t", name="t", jsonl_filename=f"t_{i}_{j}.jsonl"
                )
                outcome = "written"
            except CatalogConflictError:
                outcome = "conflict, retry"
            except Exception as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes[outcome] += 1

    run_threads(register, len(connections))
    return outcomes


def test_concurrent_upserts_of_one_key_on_cursors_of_one_connection() -> None:
    con = duckdb.connect()
    install_macros(con)
    con.execute("CREATE TABLE main.t (x INTEGER)")
    cursors = [con.cursor() for _ in range(THREADS)]
    outcomes = upsert_outcomes(cursors, calls=40)
    assert set(outcomes) <= {"written", "conflict, retry"}, outcomes
    assert outcomes["written"] > 0
    assert con.execute("SELECT count(*) FROM metadata.datasets").fetchall() == [(1,)]
    con.close()


def test_concurrent_upserts_of_one_key_from_two_connections(tmp_path: Path) -> None:
    path = str(tmp_path / "app.duckdb")
    first = duckdb.connect(path)
    install_macros(first)
    first.execute("CREATE TABLE main.t (x INTEGER)")
    second = duckdb.connect(path)
    outcomes = upsert_outcomes([first, second, first.cursor(), second.cursor()], calls=40)
    assert set(outcomes) <= {"written", "conflict, retry"}, outcomes
    assert outcomes["written"] > 0
    assert second.execute("SELECT count(*) FROM metadata.datasets").fetchall() == [(1,)]
    first.close()
    second.close()


def test_a_name_taken_by_another_writer_meanwhile_is_refused_not_retried(tmp_path: Path) -> None:
    """Writers race for one dataset name: one wins, the others are told the name is taken.

    The name checks run inside each attempt's transaction, on the rows as they
    are then; checked once before the retries, a loser retried against stale
    rows until it gave up with a misleading "retry" error.
    """
    path = str(tmp_path / "app.duckdb")
    first = duckdb.connect(path)
    install_macros(first)
    second = duckdb.connect(path)
    outcomes: list[str] = []  # list.append is atomic across threads
    for round_number in range(3):
        keys = [f"main.t{round_number}_{i}" for i in range(2 * THREADS)]
        first.execute("".join(f"CREATE TABLE {key} (x INTEGER);" for key in keys))
        connections = [first.cursor() if i % 2 else second.cursor() for i in range(len(keys))]
        barrier = threading.Barrier(len(keys))

        def register(
            con: duckdb.DuckDBPyConnection, key: str, name: str, barrier: threading.Barrier
        ) -> None:
            barrier.wait()
            try:
                register_dataset(con, key, name=name)
                outcomes.append("written")
            except InvalidArgumentError:
                outcomes.append("name taken")
            except CatalogConflictError:
                outcomes.append("conflict, retry")

        name = f"same{round_number}"
        threads = [
            threading.Thread(target=register, args=(con, key, name, barrier))
            for con, key in zip(connections, keys, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    counted = Counter(outcomes)
    assert counted == {"written": 3, "name taken": 3 * (2 * THREADS - 1)}, counted
    first.close()
    second.close()
