"""Printing listings for the command line: an aligned table, JSON or CSV.

JSON is the stable, machine-readable shape: a listing is an array of objects
(one per row, keys as the column names); values are JSON numbers, strings,
booleans or null. Standard JSON only: NaN and +/-Infinity are written as
``null`` (``JSON.parse`` rejects the bare words). Dates and times are ISO 8601
strings, an infinite timestamp is ``"infinity"`` or ``"-infinity"``,
intervals are ISO 8601 durations (``P3D``, ``PT1H30M``, ``-PT5S``; DuckDB's
Python client turns a month into 30 days), decimals are numbers, UUIDs
strings and bytes hex.

CSV writes one text per cell: structs, lists and maps as compact JSON, NULL
as an empty cell, floats as ``nan``/``inf``/``-inf`` (what DuckDB reads back),
decimals exactly. The table is for eyes on a terminal: control characters,
escape sequences and bidirectional overrides in any cell or column name are
shown escaped (``\\x1b``, ``\\n``, ``\\u202e``), so no cell can move the
cursor, colour the screen or fake a row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

FORMATS = ("table", "json", "csv")

# DuckDB's Python client returns these for 'infinity' / '-infinity' timestamps
# (of every precision, with or without time zone).
_INFINITE_TIMESTAMPS = {dt.datetime.max: "infinity", dt.datetime.min: "-infinity"}
# C0 and C1 controls, DEL, bidirectional marks and overrides, line/paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def default_format() -> str:
    """``table`` on a terminal, ``json`` when piped (as sqlite-utils does)."""
    return "table" if sys.stdout.isatty() else "json"


_AS_IS = frozenset({str, int, bool, type(None)})


def json_value(value: Any) -> Any:
    """A value as standard JSON can hold it (see the module docstring for each type)."""
    if type(value) in _AS_IS:  # most cells: skip the checks below
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.timedelta):
        return iso_duration(value)
    if isinstance(value, dt.datetime):
        return _INFINITE_TIMESTAMPS.get(value.replace(tzinfo=None)) or value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def iso_duration(delta: dt.timedelta) -> str:
    """An ISO 8601 duration in days, hours, minutes and seconds: ``P1DT2H``, ``-PT0.5S``.

    >>> iso_duration(dt.timedelta(days=3, minutes=90))
    'P3DT1H30M'
    """
    sign = "-" if delta < dt.timedelta(0) else ""
    delta = abs(delta)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    date_part = f"{delta.days}D" if delta.days else ""
    time_part = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if delta.microseconds:
        time_part += f"{seconds}.{delta.microseconds:06d}".rstrip("0") + "S"
    elif seconds:
        time_part += f"{seconds}S"
    if not date_part and not time_part:
        return "PT0S"
    return f"{sign}P{date_part}" + (f"T{time_part}" if time_part else "")


def to_json(document: Any) -> str:
    """``document`` as indented standard JSON, converting values with ``json_value``."""
    return json.dumps(json_value(document), indent=2, ensure_ascii=False, allow_nan=False)


def text_value(value: Any) -> str:
    """One value as a CSV or table cell (NULL as ``""``); nested values as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(
            json_value(value), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal):
        return str(value)  # exact decimals; nan, inf, -inf as DuckDB reads them back
    return str(json_value(value))


def printable(text: str) -> str:
    """``text`` with every control character escaped, safe to print on a terminal.

    >>> printable("a\\x1b[2Jb\\nc")
    'a\\\\x1b[2Jb\\\\nc'
    """
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], output_format: str) -> str:
    """Rows under columns as an aligned text table, a JSON array of objects, or CSV."""
    if output_format == "json":
        return to_json([dict(zip(columns, row, strict=True)) for row in rows])
    if output_format == "csv":
        buffer = io.StringIO()
        plain = csv.writer(buffer, lineterminator="\n")
        quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
        for cells in [list(columns), *([text_value(v) for v in row] for row in rows)]:
            # csv quotes a field holding "\n" but not a lone "\r", which readers
            # take for a line end: such a row is written with every field quoted.
            carriage_return = any(isinstance(c, str) and "\r" in c for c in cells)
            (quoted if carriage_return else plain).writerow(cells)
        return buffer.getvalue().rstrip("\n")
    return text_table(columns, rows)


def text_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An aligned plain-text table, control characters escaped; ``(no rows)`` when empty."""
    if not rows:
        return "(no rows)"
    header = [printable(c) for c in columns]
    cells = [["NULL" if v is None else printable(text_value(v)) for v in row] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(header)]
    lines = [header, ["-" * w for w in widths], *cells]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
