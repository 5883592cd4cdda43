"""RowBinding and insert_rows: checked at definition, batched and all-or-nothing at insert."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypedDict

import duckdb
import pytest

from ducksets.errors import RowValidationError, SchemaError
from ducksets.registry import Dataset
from ducksets.rowbinding import RowBinding, insert_rows
from ducksets.schema import Column, TableSchema

GOIDS = TableSchema(
    (
        Column("goid_h128", "DECIMAL(38,0)", nullable=False),
        Column("urn", "VARCHAR", nullable=False),
        Column("start_line", "INTEGER"),
        Column("created_at", "TIMESTAMP", nullable=False),
    ),
    ("goid_h128",),
)


class GoidRow(TypedDict):
    urn: str
    goid_h128: Decimal
    start_line: int | None
    created_at: dt.datetime


class WrongRow(TypedDict):
    urn: str
    goid: Decimal


def goid_dataset(binding: RowBinding[Any] | None) -> Dataset:
    return Dataset("core.goids", "goids", GOIDS, binding)


@pytest.fixture
def goids_con(fresh_con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    fresh_con.execute("CREATE SCHEMA core")
    fresh_con.execute(GOIDS.create_table_sql("core.goids"))
    return fresh_con


def row(i: int) -> GoidRow:
    return {
        "urn": f"goid:{i}",
        "goid_h128": Decimal(10**30 + i),
        "start_line": i if i % 3 else None,
        "created_at": dt.datetime(2026, 1, 1) + dt.timedelta(minutes=i),
    }


def test_for_schema_orders_the_tuple_by_columns() -> None:
    binding = RowBinding.for_schema(GOIDS, GoidRow)
    assert binding.to_tuple(row(1)) == (
        Decimal(10**30 + 1),
        "goid:1",
        1,
        dt.datetime(2026, 1, 1, 0, 1),
    )


def test_mismatched_typed_dict_fails_at_definition() -> None:
    with pytest.raises(
        SchemaError,
        match=r"WrongRow does not match.*missing keys \['goid_h128', "
        r"'start_line', 'created_at'\].*not columns \['goid'\]",
    ):
        RowBinding.for_schema(GOIDS, WrongRow)
    with pytest.raises(SchemaError, match="is not a TypedDict"):
        RowBinding.for_schema(GOIDS, dict)


def test_insert_rows_writes_every_row(goids_con: duckdb.DuckDBPyConnection) -> None:
    dataset = goid_dataset(RowBinding.for_schema(GOIDS, GoidRow))
    rows = [row(i) for i in range(1000)]
    assert insert_rows(goids_con, dataset, rows) == 1000
    stored = goids_con.execute(
        "FROM core.goids ORDER BY start_line NULLS FIRST, urn LIMIT 1"
    ).fetchone()
    assert stored == (Decimal(10**30), "goid:0", None, dt.datetime(2026, 1, 1))
    assert goids_con.execute("SELECT count(*), count(start_line) FROM core.goids").fetchone() == (
        1000,
        666,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extra": 1}, r"row 7: 'extra' is not a column"),
        ({"urn": 5}, r"row 7: column 'urn' \(VARCHAR\) takes str, got int 5"),
        ({"start_line": True}, r"row 7: column 'start_line' \(INTEGER\) takes int, got bool"),
        ({"created_at": None}, r"row 7: column 'created_at' is NOT NULL but the value is None"),
    ],
)
def test_a_bad_row_names_index_and_column_and_writes_nothing(
    goids_con: duckdb.DuckDBPyConnection, change: dict[str, Any], message: str
) -> None:
    rows: list[dict[str, Any]] = [dict(row(i)) for i in range(10)]
    rows[7].update(change)
    with pytest.raises(RowValidationError, match=message):
        insert_rows(goids_con, goid_dataset(None), rows)
    assert goids_con.execute("SELECT count(*) FROM core.goids").fetchone() == (0,)


def test_missing_key_is_named(goids_con: duckdb.DuckDBPyConnection) -> None:
    rows: list[dict[str, Any]] = [dict(row(i)) for i in range(3)]
    del rows[2]["urn"]
    with pytest.raises(RowValidationError, match="row 2: column 'urn' is missing"):
        insert_rows(goids_con, goid_dataset(None), rows)


def test_a_failing_insert_writes_nothing(goids_con: duckdb.DuckDBPyConnection) -> None:
    rows = [row(1), row(2), row(1)]  # duplicate primary key
    with pytest.raises(RowValidationError, match="nothing was written"):
        insert_rows(goids_con, goid_dataset(None), rows)
    assert goids_con.execute("SELECT count(*) FROM core.goids").fetchone() == (0,)


def test_views_and_undeclared_tables_are_refused(goids_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(SchemaError, match="no declared table schema"):
        insert_rows(goids_con, Dataset("core.goids", "goids", None), [row(1)])
