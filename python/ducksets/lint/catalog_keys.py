"""The user-catalog check (DS101): every ``table_key`` of ``datasets`` names a relation."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import duckdb

from ducksets._introspect import (
    Relation,
    current_database,
    database_path,
    find_relation,
    find_relations,
)
from ducksets._names import bare_refused_keywords
from ducksets.errors import ArgumentTypeError, CatalogMissingError, InvalidTableKeyError
from ducksets.keys import TableKey, parse_table_key
from ducksets.lint.diagnostic import RULES, Diagnostic
from ducksets.pack import PACK_SCHEMA
from ducksets.sqltext import qualified_name


def check_catalog_keys(
    con: duckdb.DuckDBPyConnection,
    *,
    pack_schema: str = PACK_SCHEMA,
    database: str | None = None,
    schema: str | None = None,
) -> list[Diagnostic]:
    """Validate every ``table_key`` in an installed catalog.

    Each key must parse (``parse_table_key``: the grammar and keyword rule
    ``catalog_drift`` applies too) and name an existing table or view, found
    as DuckDB resolves names (ASCII case ignored, nothing else; two-part keys
    name a schema of the connection's current database).

    Parameters
    ----------
    con
        A connection to the database holding the catalog.
    pack_schema, database
        Where the catalog table ``datasets`` lives; default ``metadata`` in the
        current database.
    schema
        Deprecated spelling of ``pack_schema`` (a ``DeprecationWarning``); it
        goes in the next release.

    Returns
    -------
    list[Diagnostic]
        One per bad key; ``file`` is the catalog table, ``line`` the 1-based row
        number in ``ORDER BY table_key``.

    Raises
    ------
    CatalogMissingError
        The database has no catalog table.
    ArgumentTypeError
        Both ``schema`` and another ``pack_schema`` were given.
    """
    if schema is not None:
        pack_schema = _renamed_schema(schema, pack_schema)
    bare_refused_keywords(con)  # read DuckDB's keywords through this connection, once
    table = _catalog_table(con, pack_schema, database)
    rows = con.execute(f"SELECT table_key, name FROM {table} ORDER BY table_key").fetchall()
    parsed = {str(k): _parsed(str(k)) for k, _ in rows}
    found = find_relations(con, [k for k in parsed.values() if isinstance(k, TableKey)])
    diagnostics = []
    for number, (table_key, dataset_name) in enumerate(rows, start=1):
        problem = _key_problem(parsed[str(table_key)], found)
        if problem is not None:
            message = f"dataset {dataset_name!r}: table_key {table_key!r}: {problem}"
            diagnostics.append(Diagnostic(table, number, 1, "DS101", "error", message))
    return diagnostics


def _renamed_schema(schema: str, pack_schema: str) -> str:
    if pack_schema not in (PACK_SCHEMA, schema):
        msg = "give pack_schema= only; schema= is its deprecated spelling"
        raise ArgumentTypeError(msg, parameter="schema", value=schema)
    msg = (
        "check_catalog_keys(schema=...) is deprecated and will be removed in the next "
        "release; use pack_schema="
    )
    warnings.warn(msg, DeprecationWarning, stacklevel=3)
    return schema


def _catalog_table(con: duckdb.DuckDBPyConnection, pack_schema: str, database: str | None) -> str:
    """The catalog table's name as SQL; ``CatalogMissingError`` when there is none."""
    catalog_db = database or current_database(con)
    catalog = find_relation(con, TableKey(catalog_db, pack_schema, "datasets"))
    if catalog is None or catalog.kind != "table":
        where = qualified_name(catalog_db, pack_schema)
        msg = (
            f"no catalog table {where}.datasets: the ducksets pack is not installed there; "
            f"run install_macros(con) or `ducksets install {database_path(con)}` first"
        )
        raise CatalogMissingError(msg)
    return qualified_name(database, pack_schema, "datasets")


def _parsed(table_key: str) -> TableKey | InvalidTableKeyError:
    try:
        return parse_table_key(table_key)
    except InvalidTableKeyError as exc:
        return exc


def _key_problem(
    key: TableKey | InvalidTableKeyError, found: Mapping[TableKey, Relation | None]
) -> str | None:
    if isinstance(key, InvalidTableKeyError):
        return f"{RULES['DS101']}: {key}"
    if found[key] is not None:
        return None
    return f"{RULES['DS101']}: no table or view {key} exists; create it or fix the row"
