"""The ``list_datasets`` tool's rows: every dataset with its kind, row count and description.

Cheap at every catalog size: the relations are read in one scan of DuckDB's
catalog, not one scan per dataset (``find_relation`` scans ``duckdb_tables()``
for each key, which made 1,000 datasets take seconds), and a base table's
``count(*)`` is answered from its storage's row counts. A view is not counted:
counting runs it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import duckdb

from ducksets._introspect import Relation, current_database
from ducksets._names import fold_name
from ducksets._transaction import transaction
from ducksets.errors import InvalidTableKeyError
from ducksets.registry import Dataset, load_dataset_registry

# Every relation with its comment (COMMENT ON TABLE/VIEW: the dataset's description).
_RELATIONS = (
    "SELECT database_name, schema_name, table_name, 'table', comment FROM duckdb_tables() "
    "UNION ALL SELECT database_name, schema_name, view_name, 'view', comment FROM duckdb_views() "
    "WHERE NOT internal"
)


_Folded = tuple[str, str, str]


class _Found(NamedTuple):
    relation: Relation
    comment: str | None


def listed_datasets(cursor: duckdb.DuckDBPyConnection, pack_schema: str) -> list[dict[str, Any]]:
    """Every dataset by name: name, table_key, kind, rows (base tables), description."""
    # One transaction: one catalog state for the list, its relations and counts.
    with transaction(cursor, "list_datasets"):
        registry = load_dataset_registry(cursor, pack_schema=pack_schema)
        relations = _relations(cursor)
        default_database = current_database(cursor)
        listed = []
        for dataset in sorted(registry.by_name.values(), key=lambda d: d.name):
            found = _resolve(relations, dataset, default_database)
            listed.append(
                {
                    "name": dataset.name,
                    "table_key": dataset.table_key,
                    "kind": dataset.kind,
                    "rows": _table_rows(cursor, found),
                    "description": found.comment if found else None,
                }
            )
    return listed


def _relations(cursor: duckdb.DuckDBPyConnection) -> dict[_Folded, _Found]:
    """Every table and view by its folded (database, schema, name), as ``find_relation`` matches.

    DuckDB refuses two names that differ only in ASCII case, so each folded
    name is one relation.
    """
    found: dict[_Folded, _Found] = {}
    for database, schema, name, kind, comment in cursor.execute(_RELATIONS).fetchall():
        folded = (fold_name(database), fold_name(schema), fold_name(name))
        found[folded] = _Found(Relation(database, schema, name, kind), comment or None)
    return found


def _resolve(
    relations: dict[_Folded, _Found], dataset: Dataset, default_database: str
) -> _Found | None:
    """The relation a dataset's key names, by ``find_relation``'s rule; ``None`` if none."""
    try:
        key = dataset.key
    except InvalidTableKeyError:
        return None
    database = key.database if key.database is not None else default_database
    return relations.get((fold_name(database), fold_name(key.schema), fold_name(key.name)))


def _table_rows(cursor: duckdb.DuckDBPyConnection, found: _Found | None) -> int | None:
    if found is None or found.relation.kind != "table":
        return None
    row = cursor.execute(f"SELECT count(*) FROM {found.relation.sql()}").fetchone()
    return int(row[0]) if row else None
