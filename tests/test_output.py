"""Command-line output: stable JSON values, CSV and aligned tables."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from decimal import Decimal

import duckdb
import pytest

from ducksets.output import json_value, render, text_table, to_json


def test_json_values() -> None:
    assert json_value(Decimal(10**30)) == 10**30
    assert json_value(Decimal("1.5")) == 1.5
    assert json_value(dt.datetime(2026, 1, 2, 3, 4)) == "2026-01-02T03:04:00"
    assert json_value({"a": [Decimal(1), None, b"\x01"]}) == {"a": [1, None, "01"]}


def test_render_formats() -> None:
    columns, rows = ("a", "b"), [(1, None), (2, "x,y")]
    assert json.loads(render(columns, rows, "json")) == [{"a": 1, "b": None}, {"a": 2, "b": "x,y"}]
    assert render(columns, rows, "csv") == 'a,b\n1,\n2,"x,y"'
    assert render(columns, rows, "table") == "a  b\n-  ----\n1  NULL\n2  x,y"
    assert text_table(columns, []) == "(no rows)"


def test_json_never_writes_nan_or_infinity() -> None:
    document = [{"a": float("nan"), "b": float("inf"), "c": [float("-inf"), 1.5]}]
    text = render(("a", "b", "c"), [(float("nan"), float("inf"), [float("-inf"), 1.5])], "json")
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == [{"a": None, "b": None, "c": [None, 1.5]}]
    assert json.loads(to_json(document)) == [{"a": None, "b": None, "c": [None, 1.5]}]


@pytest.mark.parametrize(
    ("sql", "iso"),
    [
        ("INTERVAL 3 DAY", "P3D"),
        ("INTERVAL '1 hour 30 minutes'", "PT1H30M"),
        ("INTERVAL '2 days 5.25 seconds'", "P2DT5.25S"),
        ("INTERVAL 0 SECOND", "PT0S"),
        ("-INTERVAL '90 minutes'", "-PT1H30M"),
        ("INTERVAL 2 MONTH", "P60D"),  # the Python client makes a month 30 days
        ("INTERVAL '1 microsecond'", "PT0.000001S"),
    ],
)
def test_intervals_are_iso_8601_durations(sql: str, iso: str) -> None:
    [(value,)] = duckdb.sql(f"SELECT {sql}").fetchall()
    assert json_value(value) == iso


def test_infinite_timestamps_are_named() -> None:
    [row] = duckdb.sql(
        "SELECT 'infinity'::TIMESTAMP, '-infinity'::TIMESTAMP, 'infinity'::TIMESTAMPTZ, "
        "'-infinity'::TIMESTAMP_NS, TIMESTAMP '2026-01-02 03:04:05'"
    ).fetchall()
    assert [json_value(v) for v in row] == [
        "infinity",
        "-infinity",
        "infinity",
        "-infinity",
        "2026-01-02T03:04:05",
    ]


def test_csv_writes_nested_values_as_json() -> None:
    [row] = duckdb.sql(
        "SELECT {'a': 1, 'b': [1, 2], 'c': 'x\"y'} AS s, [1.5, NULL] AS l, MAP {'k': 2} AS m"
    ).fetchall()
    lines = render(("s", "l", "m"), [row], "csv").splitlines()
    assert lines[1] == '"{""a"":1,""b"":[1,2],""c"":""x\\""y""}","[1.5,null]","{""k"":2}"'
    parsed = next(csv.reader(io.StringIO(lines[1])))
    assert [json.loads(cell) for cell in parsed] == [
        {"a": 1, "b": [1, 2], "c": 'x"y'},
        [1.5, None],
        {"k": 2},
    ]


def test_table_cells_cannot_move_the_cursor_or_add_rows() -> None:
    hostile = "ok\x1b[2J\x1b[1;1Hfake\nrow\r\tx\x07\u202edlrow\x9b"
    table = render(("name\x1b[31m",), [(hostile,), ({"k": "a\nb"},)], "table")
    assert len(table.splitlines()) == 4
    assert not any(ch in table for ch in "\x1b\r\t\x07\u202e\x9b")
    assert table.splitlines()[0] == "name\\x1b[31m"
    assert "ok\\x1b[2J\\x1b[1;1Hfake\\nrow\\r\\tx\\x07\\u202edlrow\\x9b" in table


def test_uuid_bytes_decimal_keep_working() -> None:
    [row] = duckdb.sql(
        "SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID, '\\x01\\xff'::BLOB, "
        "12.50::DECIMAL(5,2)"
    ).fetchall()
    assert [json_value(v) for v in row] == ["6ba7b810-9dad-11d1-80b4-00c04fd430c8", "01ff", 12.5]
    assert render(("u", "b", "d"), [row], "csv").splitlines()[1] == (
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8,01ff,12.50"
    )
    assert isinstance(row[0], uuid.UUID)


def test_csv_quotes_a_field_holding_a_lone_carriage_return() -> None:
    rows = [("b\rfake.parquet", 1), ("plain", 2)]
    text = render(("file", "n"), rows, "csv")
    assert list(csv.reader(io.StringIO(text))) == [
        ["file", "n"],
        ["b\rfake.parquet", "1"],
        ["plain", "2"],
    ]
