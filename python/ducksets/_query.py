"""Reading one row without leaving a result open.

DuckDB 2.0's Python API refuses to build a relation (``con.sql``) while an
``execute()`` result is unfinished, and ``fetchone()`` on a one-row result
leaves it so. Reading everything closes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def fetch_one(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row of ``sql`` (``None`` when there is none), with the result closed."""
    rows = (
        con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    )
    return rows[0] if rows else None
