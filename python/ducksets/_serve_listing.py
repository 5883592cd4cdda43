"""The ``list_datasets`` tool's rows: every dataset with its kind, row count and description.

Cheap at every catalog size: every key is resolved in one catalog scan
(``find_relations``; one ``find_relation`` per key scans ``duckdb_tables()``
each time, which made 1,000 datasets take seconds), the comments come from one
more query, and a base table's ``count(*)`` is answered from its storage's
row counts. A view is not counted: counting runs it.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ducksets._introspect import Relation, find_relations
from ducksets._transaction import transaction
from ducksets.errors import InvalidTableKeyError
from ducksets.keys import TableKey
from ducksets.registry import Dataset, load_dataset_registry


def listed_datasets(cursor: duckdb.DuckDBPyConnection, pack_schema: str) -> list[dict[str, Any]]:
    """Every dataset by name: name, table_key, kind, rows (base tables), description."""
    # One transaction: one catalog state for the list, its relations and counts.
    with transaction(cursor, "list_datasets"):
        registry = load_dataset_registry(cursor, pack_schema=pack_schema)
        datasets = sorted(registry.by_name.values(), key=lambda d: d.name)
        keys = {d.name: _key(d) for d in datasets}
        relations = find_relations(cursor, [k for k in keys.values() if k is not None])
        listed = []
        for dataset in datasets:
            key = keys[dataset.name]
            relation = None if key is None else relations[key]
            listed.append(
                {
                    "name": dataset.name,
                    "table_key": dataset.table_key,
                    "kind": dataset.kind,
                    "rows": _table_rows(cursor, relation),
                    "description": dataset.description,
                }
            )
    return listed


def _key(dataset: Dataset) -> TableKey | None:
    try:
        return dataset.key
    except InvalidTableKeyError:
        return None  # names nothing; catalog_drift reports it


def _table_rows(cursor: duckdb.DuckDBPyConnection, relation: Relation | None) -> int | None:
    if relation is None or relation.kind != "table":
        return None
    row = cursor.execute(f"SELECT count(*) FROM {relation.sql()}").fetchone()
    return int(row[0]) if row else None
