"""Comparing a package's resources with the database's data as it is now.

Each resource's ``ducksets:tableKey`` is resolved by ``find_relations`` (one
catalog query, DuckDB's own rules: never a file or another database) and
counted by ``counts.count_datasets``; its columns are read by binding the
relation (a view's catalog entry may lag behind its table).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from ducksets._introspect import Relation, find_relations
from ducksets._verify_files import Columns, Listed, columns_difference
from ducksets.counts import count_datasets
from ducksets.errors import InvalidTableKeyError, first_line
from ducksets.keys import TableKey, parse_table_key
from ducksets.registry import Dataset


def data_problems(
    con: duckdb.DuckDBPyConnection, resources: Sequence[Listed]
) -> list[tuple[Listed, str, str]]:
    """(resource, code, message) for each resource whose data differs from the package."""
    problems: list[tuple[Listed, str, str]] = []
    keyed: list[tuple[Listed, TableKey]] = []
    for listed in resources:
        if listed.table_key is None:
            problems.append((listed, "resource_invalid", "has no 'ducksets:tableKey' to compare"))
            continue
        try:
            keyed.append((listed, parse_table_key(listed.table_key)))
        except InvalidTableKeyError as exc:
            problems.append((listed, "data_missing", first_line(exc)))
    relations = find_relations(con, [key for _, key in keyed])
    present = [(listed, key) for listed, key in keyed if relations[key] is not None]
    for listed, key in keyed:
        if relations[key] is None:
            problems.append(
                (listed, "data_missing", f"no table or view {listed.table_key} in the database")
            )
    datasets = [Dataset(str(listed.table_key), listed.name, None) for listed, _ in present]
    for (listed, key), counted in zip(present, count_datasets(con, datasets), strict=True):
        if counted.status != "counted":
            problems.append((listed, "data_unreadable", counted.detail))
            continue
        if listed.rows is not None and counted.rows != listed.rows:
            message = (
                f"{listed.table_key} has {counted.rows} rows now, the package says {listed.rows}"
            )
            problems.append((listed, "data_rows_mismatch", message))
        relation = relations[key]
        assert relation is not None  # only present ones were counted
        columns = _columns(con, relation)
        if isinstance(columns, str):
            problems.append((listed, "data_unreadable", columns))
            continue
        difference = columns_difference(columns, listed.fields)
        if difference is not None:
            problems.append((listed, "data_schema_mismatch", f"{listed.table_key}: {difference}"))
    return problems


def _columns(con: duckdb.DuckDBPyConnection, relation: Relation) -> Columns | str:
    """(name, type) of the relation's columns as DuckDB binds it now, or why it cannot."""
    sql = relation.sql()
    try:
        bound = con.sql(f"SELECT * FROM {sql} LIMIT 0")
        return tuple(zip(bound.columns, (str(t) for t in bound.types), strict=True))
    except duckdb.Error as exc:
        return f"{sql} cannot be read: {first_line(exc)}"
