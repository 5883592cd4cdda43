"""Printing listings for the command line: an aligned table, JSON or CSV.

JSON is the stable, machine-readable shape: a listing is an array of objects
(one per row, keys as the column names); values are JSON numbers, strings,
booleans or null (dates and times as ISO 8601 strings, decimals as numbers).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

FORMATS = ("table", "json", "csv")


def default_format() -> str:
    """``table`` on a terminal, ``json`` when piped (as sqlite-utils does)."""
    return "table" if sys.stdout.isatty() else "json"


def json_value(value: Any) -> Any:
    """A value as JSON can hold it."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def to_json(document: Any) -> str:
    """``document`` as indented JSON, converting values with ``json_value``."""
    return json.dumps(json_value(document), indent=2, ensure_ascii=False)


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], output_format: str) -> str:
    """Rows under columns as an aligned text table, a JSON array of objects, or CSV."""
    if output_format == "json":
        return to_json([dict(zip(columns, row, strict=True)) for row in rows])
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else json_value(v) for v in row] for row in rows)
        return buffer.getvalue().rstrip("\n")
    return text_table(columns, rows)


def text_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An aligned plain-text table; ``(no rows)`` when empty."""
    if not rows:
        return "(no rows)"
    cells = [["NULL" if v is None else str(json_value(v)) for v in row] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [list(columns), ["-" * w for w in widths], *cells]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
