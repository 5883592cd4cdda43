"""Command-line output: stable JSON values, CSV and aligned tables."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from ducksets.output import json_value, render, text_table


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
