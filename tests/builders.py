"""Builders for tests: databases shaped like a ``catalog.json`` (the codeintel fixture)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from ducksets.gateway import create_view_sql
from ducksets.keys import parse_table_key
from ducksets.schema import TableSchema
from ducksets.sqltext import quote_identifier, quote_literal

# One generated value per row index ``i`` for each declared type; every value
# differs per row, so primary keys hold.
_GENERATED_VALUE = {
    "VARCHAR": "'v' || i",
    "INTEGER": "i::INTEGER",
    "BIGINT": "i",
    "DOUBLE": "i / 10",
    "BOOLEAN": "i % 2 = 0",
    "TIMESTAMP": "TIMESTAMP '2026-01-01' + to_minutes(i)",
    "JSON": "to_json({'i': i})",
}


def schemas_from_catalog(tables: Mapping[str, Mapping[str, Any]]) -> dict[str, TableSchema]:
    """``{table_key: TableSchema}`` from a ``catalog.json``-shaped ``tables`` mapping."""
    return {key: TableSchema.from_dict(spec) for key, spec in tables.items()}


def build_from_catalog(
    con: duckdb.DuckDBPyConnection, catalog: Mapping[str, Any], *, rows_per_table: int = 0
) -> tuple[dict[str, TableSchema], dict[str, str]]:
    """Create the tables and views a ``catalog.json``-shaped mapping describes.

    Tables get their declared columns and ``rows_per_table`` generated rows;
    each view selects from what it reads (one relation: all of it; several: a
    row count per relation, an aggregate view).

    Returns
    -------
    tuple[dict[str, TableSchema], dict[str, str]]
        The declared tables and the view definitions, by table key, as
        ``StorageConfig`` and ``bootstrap_metadata_datasets`` take them.
    """
    tables = schemas_from_catalog(catalog["tables"])
    views = {key: _view_sql(spec["reads"]) for key, spec in catalog.get("views", {}).items()}
    schemas = {parse_table_key(k).schema for k in (*tables, *views)}
    for schema in sorted(schemas):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")
    for key, table_schema in tables.items():
        con.execute(table_schema.create_table_sql(key))
        if rows_per_table:
            values = ", ".join(_value_sql(c.type) for c in table_schema.columns)
            target = parse_table_key(key).sql()
            con.execute(
                f"INSERT INTO {target} SELECT {values} FROM range(?) AS r(i)", [rows_per_table]
            )
    for key, select_sql in views.items():
        con.execute(create_view_sql(key, select_sql))
    return tables, views


def _value_sql(type_name: str) -> str:
    if type_name.startswith("DECIMAL"):
        return f"i::{type_name}"
    return _GENERATED_VALUE.get(type_name, "NULL")


def _view_sql(reads: list[str]) -> str:
    keys = [parse_table_key(r) for r in reads]
    if len(keys) == 1:
        return f"SELECT * FROM {keys[0].sql()}"
    return " UNION ALL ".join(
        f"SELECT {quote_literal(str(k))} AS source, count(*) AS row_count FROM {k.sql()}"
        for k in keys
    )
