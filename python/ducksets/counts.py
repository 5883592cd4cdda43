"""Counting each dataset's rows, without letting one missing relation spoil the rest.

A key is resolved by DuckDB's own rules (``find_relations``) and the count reads
only the relation found, by its fully quoted name, so a key that names no
table or view is never read as a file (a replacement scan) or as another
database's table. The lookups (one catalog query for every key) and the
counts run in one transaction: a relation cannot vanish between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import duckdb

from ducksets._introspect import find_relations
from ducksets._query import fetch_one
from ducksets._transaction import transaction
from ducksets.errors import InvalidTableKeyError, first_line
from ducksets.keys import TableKey
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

    The keys are resolved in one catalog query and counted in the same
    transaction; a view that fails aborts it, so the datasets after it are
    resolved and counted in a new one. The connection must have no
    transaction open.
    """
    todo = list(datasets)
    counts: list[RowCount | None] = [None] * len(todo)
    keys: dict[int, TableKey] = {}
    for i, dataset in enumerate(todo):
        try:
            keys[i] = dataset.key
        except InvalidTableKeyError as exc:
            counts[i] = _marked(dataset, "missing", first_line(exc))
    pending = list(keys)
    while pending:
        pending = _count_until_one_fails(con, todo, keys, pending, counts)
    return tuple(c for c in counts if c is not None)


class _ViewFailedError(Exception):
    """Ends the transaction of a batch whose view failed (the count is already marked)."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


def _count_until_one_fails(
    con: duckdb.DuckDBPyConnection,
    todo: list[Dataset],
    keys: dict[int, TableKey],
    pending: list[int],
    counts: list[RowCount | None],
) -> list[int]:
    """Count ``pending`` in one transaction, filling ``counts``; those left after a failure."""
    try:
        with transaction(con, "count_datasets"):
            relations = find_relations(con, [keys[i] for i in pending])
            for position, i in enumerate(pending):
                dataset, relation = todo[i], relations[keys[i]]
                if relation is None:
                    detail = f"no table or view {dataset.table_key}"
                    counts[i] = _marked(dataset, "missing", detail)
                    continue
                try:
                    counted = fetch_one(con, f"SELECT count(*) FROM {relation.sql()}")
                except duckdb.Error as exc:
                    detail = f"{dataset.kind} {dataset.table_key} fails: {first_line(exc)}"
                    counts[i] = _marked(dataset, "unreadable", detail)
                    raise _ViewFailedError(position) from exc
                rows = int(counted[0]) if counted else 0
                counts[i] = RowCount(dataset.name, dataset.table_key, rows, "counted")
    except _ViewFailedError as failed:
        return pending[failed.position + 1 :]
    return []


def _marked(dataset: Dataset, status: CountStatus, detail: str) -> RowCount:
    return RowCount(dataset.name, dataset.table_key, None, status, detail)
