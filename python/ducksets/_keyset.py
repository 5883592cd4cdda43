"""Pages in ``ORDER BY ALL`` order, by offset or after a cursor's last row (keyset).

A page reached through a cursor costs about what page 1 costs: instead of
``OFFSET 9000000`` (a sort of nearly everything) it reads the rows at or
after the last row returned, ``ORDER BY ALL ... LIMIT n OFFSET ties``, where
``ties`` counts the rows equal to that last row that were returned already,
so duplicates are neither lost nor repeated.

"At or after" is spelled column by column (``c0 > v0 OR c0 IS NULL OR (c0 =
v0 AND ...)``) to match ``ORDER BY ALL ASC NULLS LAST`` exactly: a NULL sorts
after every value, a column's collation applies (measured on 1.2 and 2.0: a
row comparison ``(c0, c1) > (v0, v1)`` ignores ``COLLATE NOCASE``), and NaN
is one value above infinity in both. Values travel as DuckDB's own text and
are bound as parameters cast back to the column's type, which is exact for
the types in ``_KEYSET_TYPES``. Any other type (LIST, STRUCT, MAP, UNION,
ARRAY, ENUM, INTERVAL, whose sort disagrees with ``=``: ``'1 month'`` equals
``'30 days'``, but ``'29 days 25 hours'`` sorts between them) makes the
relation page by offset, cursor or not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import duckdb

from ducksets._cursor import Order, PageCursor, column_signature, stale_cursor

_KEYSET_TYPES = re.compile(
    r"BOOLEAN|U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\)"
    r"|VARCHAR|BLOB|UUID|DATE|TIME|TIMESTAMP(_S|_MS|_NS| WITH TIME ZONE)?"
)

_SORT = "ORDER BY ALL ASC NULLS LAST"


@dataclass(frozen=True)
class Page:
    """Rows read for one call, and what the next page's cursor needs."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    table_key: str
    order: Order = "scan"
    """``scan`` (insertion order) or ``sorted`` (``ORDER BY ALL``)."""
    signature: str = ""
    last: tuple[str | None, ...] | None = None
    ties: int = 0
    unsupported: tuple[str, ...] = ()


@dataclass(frozen=True)
class Given:
    """A cursor passed in: what it says, and its text (for errors)."""

    cursor: PageCursor
    text: str


@dataclass(frozen=True)
class Columns:
    """A relation's column names and DuckDB types, in order."""

    names: tuple[str, ...]
    types: tuple[str, ...]

    @property
    def signature(self) -> str:
        """What a cursor is bound to: a digest of the names and types."""
        return column_signature(self.names, self.types)

    @property
    def unsupported(self) -> tuple[str, ...]:
        """``name TYPE`` of each column a cursor cannot hold exactly."""
        return tuple(
            f"{name} {kind}"
            for name, kind in zip(self.names, self.types, strict=True)
            if not _KEYSET_TYPES.fullmatch(kind)
        )


@dataclass(frozen=True)
class SortedPage:
    """Rows in ``ORDER BY ALL`` order, and where the rows after the first ``keep`` start."""

    rows: list[tuple[Any, ...]]
    last: tuple[str | None, ...] | None
    """The text of row ``keep`` (the last one returned), if a cursor can hold it."""
    ties: int
    """Rows equal to it before the next page (in this page or earlier)."""


def relation_columns(cursor: duckdb.DuckDBPyConnection, relation_sql: str) -> Columns:
    """The columns of ``relation_sql`` (a quoted name of an existing relation), bound now."""
    described = cursor.execute(f"DESCRIBE SELECT * FROM {relation_sql}").fetchall()
    return Columns(tuple(row[0] for row in described), tuple(row[1] for row in described))


def sorted_page(
    cursor: duckdb.DuckDBPyConnection,
    relation_sql: str,
    columns: Columns,
    *,
    fetch: int,
    keep: int,
    offset: int,
    after: PageCursor | None = None,
) -> SortedPage:
    """Up to ``fetch`` rows from ``offset`` (or after ``after.last``), in ``ORDER BY ALL`` order.

    ``keep`` is how many of them the caller returns; when more were fetched
    and the columns allow a cursor, ``last`` and ``ties`` say where the next
    page starts. With ``after``, ``offset`` must be 0 (the cursor's ties are
    the offset within its last row's equals).
    """
    if columns.unsupported:
        sql = f"SELECT * FROM {relation_sql} {_SORT} LIMIT ? OFFSET ?"
        return SortedPage(cursor.execute(sql, [fetch, offset]).fetchall(), None, 0)
    width = len(columns.names)
    names = [f"c{i}" for i in range(width)]
    where, past = "", "TRUE"
    where_params: list[str] = []
    past_params: list[str] = []
    if after is not None:
        where, where_params = _after_sql(names, columns.types, after.last, strict=False)
        where = f"WHERE {where}"
        past, past_params = _after_sql(names, columns.types, after.last, strict=True)
        offset = after.ties
    order = ", ".join(f"{name} ASC NULLS LAST" for name in names)
    texts = ", ".join(f"CAST({name} AS VARCHAR)" for name in names)
    # The inner query is the page; the outer one ranks its rows (rank() counts
    # the rows strictly before, so equal rows share it whatever their order)
    # and gives each value's text, for the cursor.
    sql = (
        f"SELECT *, rank() OVER (ORDER BY {order}), {past}, {texts} FROM ("
        f"SELECT * FROM {relation_sql} AS ducksets_r({', '.join(names)}) {where} "
        f"{_SORT} LIMIT ? OFFSET ?) AS ducksets_page ORDER BY {order}"
    )
    fetched = cursor.execute(sql, [*past_params, *where_params, fetch, offset]).fetchall()
    rows = [row[:width] for row in fetched]
    if not 0 < keep < len(fetched):
        return SortedPage(rows, None, 0)
    last_row = fetched[keep - 1]
    rank, is_past, last = last_row[width], last_row[width + 1], tuple(last_row[width + 2 :])
    if rank > 1:
        # The page holds a smaller row, so every equal of the last one is in it.
        ties = keep - rank + 1
    elif after is not None:
        ties = keep if is_past else after.ties + keep
    elif offset == 0:
        ties = keep  # the page starts the relation, and every row of it is equal
    else:
        # The whole page equals its last row, and equals may precede the offset.
        ties = offset + keep - _count_before(cursor, relation_sql, columns, last)
    return SortedPage(rows, last, ties)


def _count_before(
    cursor: duckdb.DuckDBPyConnection,
    relation_sql: str,
    columns: Columns,
    last: tuple[str | None, ...],
) -> int:
    """How many rows sort strictly before ``last`` (a scan, no sort)."""
    names = [f"c{i}" for i in range(len(columns.names))]
    at_or_after, params = _after_sql(names, columns.types, last, strict=False)
    sql = (
        f"SELECT count(*) FROM {relation_sql} AS ducksets_r({', '.join(names)}) "
        f"WHERE NOT {at_or_after}"
    )
    row = cursor.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _after_sql(
    names: list[str], types: tuple[str, ...], values: tuple[str | None, ...], *, strict: bool
) -> tuple[str, list[str]]:
    """A condition true for rows after ``values`` in ``ORDER BY ALL ASC NULLS LAST`` order.

    With ``strict=False`` rows equal to ``values`` count too. Never NULL.
    ``types`` are DuckDB's names of the column types (matched by
    ``_KEYSET_TYPES``, so safe in SQL); the values are parameters.
    """
    condition = "FALSE" if strict else "TRUE"
    params: list[str] = []
    for name, kind, value in reversed(list(zip(names, types, values, strict=True))):
        if value is None:
            # NULL sorts last: nothing but another NULL is at or after it.
            condition = f"({name} IS NULL AND {condition})"
        else:
            cast = f"CAST(? AS {kind})"
            condition = f"({name} > {cast} OR {name} IS NULL OR ({name} = {cast} AND {condition}))"
            params = [value, value, *params]
    return condition, params


def read_sorted(
    cursor: duckdb.DuckDBPyConnection,
    dataset_name: str,
    relation_sql: str,
    table_key: str,
    fetch: int,
    keep: int,
    offset: int,
    start: Given | None,
) -> Page:
    """A page in ``ORDER BY ALL`` order, by offset or after the cursor's last row."""
    columns = relation_columns(cursor, relation_sql)
    if start is not None and start.cursor.columns != columns.signature:
        raise stale_cursor(dataset_name, "changed its columns", start.text)
    after = start.cursor if start is not None and start.cursor.order == "after" else None
    page = sorted_page(
        cursor, relation_sql, columns, fetch=fetch, keep=keep, offset=offset, after=after
    )
    return Page(
        columns.names,
        page.rows,
        table_key,
        "sorted",
        columns.signature,
        page.last,
        page.ties,
        columns.unsupported,
    )
