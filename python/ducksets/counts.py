"""Counting each dataset's rows, without letting one missing relation spoil the rest.

A key is resolved by DuckDB's own rules (``find_relation``) and the count reads
only the relation found, by its fully quoted name, so a key that names no
table or view is never read as a file (a replacement scan) or as another
database's table. The lookup and the count run in one transaction: the
relation cannot vanish between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import duckdb

from ducksets._introspect import find_relation
from ducksets._query import fetch_one
from ducksets._transaction import transaction
from ducksets.errors import InvalidTableKeyError, first_line
from ducksets.registry import Dataset

CountStatus = Literal["counted", "missing", "unreadable"]


@dataclass(frozen=True)
class RowCount:
    """One dataset's row count, or why there is none."""

    name: str
    table_key: str
    rows: int | None
    """``None`` unless ``status`` is ``counted``"""
    status: CountStatus
    """``counted``; ``missing`` (the key names no table or view); ``unreadable`` (a view
    that fails, such as one over a dropped table)"""
    detail: str = ""
    """what went wrong, for a message; empty when counted"""


def count_dataset_rows(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> int | None:
    """The number of rows of ``dataset``; ``None`` when it cannot be counted.

    ``None`` means the key names no table or view, or names a view that fails
    to run; ``count_datasets`` says which.
    """
    return count_datasets(con, [dataset])[0].rows


def count_datasets(
    con: duckdb.DuckDBPyConnection, datasets: Iterable[Dataset]
) -> tuple[RowCount, ...]:
    """Count each dataset's rows, in order; a dataset that cannot be counted is marked, not fatal.

    Each count runs in its own transaction (a failing view aborts only its
    own), so the connection must have none open.
    """
    return tuple(_count(con, d) for d in datasets)


def _count(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> RowCount:
    def marked(status: CountStatus, detail: str) -> RowCount:
        return RowCount(dataset.name, dataset.table_key, None, status, detail)

    try:
        key = dataset.key
    except InvalidTableKeyError as exc:
        return marked("missing", first_line(exc))
    try:
        with transaction(con, "count_datasets"):
            relation = find_relation(con, key)
            if relation is None:
                return marked("missing", f"no table or view {dataset.table_key}")
            counted = fetch_one(con, f"SELECT count(*) FROM {relation.sql()}")
    except duckdb.Error as exc:
        return marked("unreadable", f"{dataset.kind} {dataset.table_key} fails: {first_line(exc)}")
    return RowCount(dataset.name, dataset.table_key, int(counted[0]) if counted else 0, "counted")
