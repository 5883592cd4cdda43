"""Catalog writes keep keys and names unique on a catalog without constraints.

A DuckLake catalog has no PRIMARY KEY, UNIQUE, ON CONFLICT or RETURNING, so
the writes check uniqueness themselves, inside their own transaction. Here
the catalog tables are made keyless by hand in DuckDB 2.x, which is how
DuckLake holds them; tests/scale/test_ducklake_catalog.py runs the same
guarantees on real DuckLake catalogs.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ducksets import install_macros
from ducksets.catalog import CatalogRow, unregister_dataset, upsert_rows
from ducksets.errors import CatalogConflictError, InvalidArgumentError, UnknownDatasetError
from ducksets.schema import Column, TableSchema

ITEMS = TableSchema((Column("id", "BIGINT", nullable=False),), ("id",))

KEYLESS = """
DROP TABLE metadata.datasets;
CREATE TABLE metadata.datasets (
    table_key TEXT, name TEXT NOT NULL, is_view BOOLEAN NOT NULL,
    jsonl_filename TEXT, parquet_filename TEXT);
COMMENT ON TABLE metadata.datasets IS 'ducksets: the dataset catalog (one row per table or view)';
DROP TABLE metadata.dataset_columns;
CREATE TABLE metadata.dataset_columns (
    table_key TEXT NOT NULL, column_name TEXT NOT NULL, ordinal INTEGER NOT NULL,
    declared_type TEXT NOT NULL, is_nullable BOOLEAN NOT NULL, pk_position INTEGER);
COMMENT ON TABLE metadata.dataset_columns IS 'ducksets: declared columns of base-table datasets';
"""


def make_keyless(con: duckdb.DuckDBPyConnection) -> None:
    """The pack's catalog tables as DuckLake holds them: no PRIMARY KEY, no UNIQUE."""
    install_macros(con)
    con.execute(KEYLESS)


def row(key: str, name: str | None = None, schema: TableSchema | None = None) -> CatalogRow:
    return CatalogRow(key, name, False, None, None, schema)


def write(con: duckdb.DuckDBPyConnection, *rows: CatalogRow) -> tuple[str, ...]:
    # catalog_checked: a keyless catalog in plain DuckDB is not the pack's shape
    # (only a DuckLake target is checked against the keyless variant).
    return upsert_rows(con, rows, "metadata", catalog_checked=True)


def catalog(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(
        "SELECT table_key, name, jsonl_filename FROM metadata.datasets ORDER BY ALL"
    ).fetchall()


@pytest.fixture
def keyless() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    make_keyless(con)
    return con


def test_upsert_updates_the_row_of_a_key_spelled_otherwise(
    keyless: duckdb.DuckDBPyConnection,
) -> None:
    assert write(keyless, row("core.items", schema=ITEMS)) == ("core.items",)
    changed = CatalogRow("CORE.Items", "things", False, "t.jsonl", None, ITEMS)
    assert write(keyless, changed) == ("core.items",)
    assert catalog(keyless) == [("core.items", "things", "t.jsonl")]
    columns = keyless.execute("SELECT table_key, column_name FROM metadata.dataset_columns")
    assert columns.fetchall() == [("core.items", "id")]


def test_a_name_of_another_key_is_refused_and_nothing_changes(
    keyless: duckdb.DuckDBPyConnection,
) -> None:
    write(keyless, row("core.items"))
    before = catalog(keyless)
    with pytest.raises(InvalidArgumentError, match="'items' would belong to both"):
        write(keyless, row("graph.items"))
    with pytest.raises(InvalidArgumentError, match="name the same relation"):
        write(keyless, row("graph.a"), row("GRAPH.A"))
    assert catalog(keyless) == before


def test_names_can_move_between_keys_in_one_batch(keyless: duckdb.DuckDBPyConnection) -> None:
    write(keyless, row("s.a", "first"), row("s.b", "second"))
    write(keyless, row("s.a", "second"), row("s.b", "first"))
    assert catalog(keyless) == [("s.a", "second", None), ("s.b", "first", None)]


def test_unregister_on_a_keyless_catalog(keyless: duckdb.DuckDBPyConnection) -> None:
    write(keyless, row("s.a", schema=ITEMS))
    assert unregister_dataset(keyless, "a") == "s.a"
    assert catalog(keyless) == []
    assert keyless.execute("FROM metadata.dataset_columns").fetchall() == []
    with pytest.raises(UnknownDatasetError):
        unregister_dataset(keyless, "a")


def race(connections: list[duckdb.DuckDBPyConnection], rounds: int) -> Counter[str]:
    """Each connection registers the same new keys and names at once, ``rounds`` times."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(connections))

    def register(i: int) -> None:
        for j in range(rounds):
            barrier.wait()
            try:
                # the same key from everyone, and a name each writer gives its own key
                write(connections[i], row(f"s.k{j}", f"k{j}"))
                write(connections[i], row(f"s.n{j}_{i}", f"n{j}"))
                outcome = "written"
            except InvalidArgumentError:
                outcome = "name taken"
            except CatalogConflictError:
                outcome = "conflict, retry"
            except Exception as exc:  # anything else is a failure the assert shows
                outcome = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=register, args=(i,)) for i in range(len(connections))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def duplicates(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(
        """
        SELECT 'key', lower(table_key) FROM metadata.datasets GROUP BY 2 HAVING count(*) > 1
        UNION ALL
        SELECT 'name', name FROM metadata.datasets GROUP BY 2 HAVING count(*) > 1
        """
    ).fetchall()


def test_concurrent_writers_leave_no_duplicate(tmp_path: Path) -> None:
    path = str(tmp_path / "keyless.duckdb")
    first = duckdb.connect(path)
    make_keyless(first)
    second = duckdb.connect(path)
    connections = [first.cursor(), second.cursor(), first.cursor(), second.cursor()]
    rounds = 15
    outcomes = race(connections, rounds)
    assert set(outcomes) <= {"written", "name taken", "conflict, retry"}, outcomes
    assert outcomes["written"] >= rounds
    assert duplicates(first) == []
    keys = first.execute("SELECT count(DISTINCT table_key) FROM metadata.datasets").fetchone()
    assert keys is not None and keys[0] >= rounds
    first.close()
    second.close()


@pytest.mark.parametrize("keyed", [True, False], ids=["pack catalog", "keyless catalog"])
def test_a_writer_holding_the_lock_makes_others_wait_then_fail_cleanly(keyed: bool) -> None:
    con = duckdb.connect()
    if keyed:
        install_macros(con)
    else:
        make_keyless(con)
    write(con, row("s.a"))
    holder, other = con.cursor(), con.cursor()
    holder.execute("BEGIN")
    write_lock = "COMMENT ON TABLE metadata.datasets IS 'ducksets: held'"
    holder.execute(write_lock)  # what a catalog write holds until it commits
    with pytest.raises(CatalogConflictError, match="another transaction wrote .*; retry it"):
        write(other, row("s.b"))
    with pytest.raises(CatalogConflictError):
        unregister_dataset(other, "a")
    assert catalog(con) == [("s.a", "a", None)]
    holder.execute("ROLLBACK")
    assert write(other, row("s.b")) == ("s.b",)
    assert unregister_dataset(other, "a") == "s.a"
    assert catalog(con) == [("s.b", "b", None)]
