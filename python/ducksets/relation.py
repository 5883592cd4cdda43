"""A dataset as a DuckDB relation, and the one way ducksets finds what a key names.

Every read of a dataset goes through ``resolve_relation``: the key must name
an existing table or view by DuckDB's own rules (``_introspect.find_relation``;
a two-part key names a schema of the current database), and the read then uses
the fully quoted three-part name. So no file, URL or attached database's table
ever stands in for a missing relation, even though DuckDB would read
``data.csv`` or ``side.t`` that way (replacement scans cannot be turned off).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import duckdb

from ducksets._args import require_connection, require_str
from ducksets._introspect import Relation, database_path, find_relation
from ducksets._transaction import transaction
from ducksets.errors import (
    DatasetUnreadableError,
    InvalidTableKeyError,
    RelationMissingError,
    first_line,
)
from ducksets.keys import parse_table_key
from ducksets.pack import PACK_SCHEMA
from ducksets.registry import lookup_table_key


def snapshot(con: duckdb.DuckDBPyConnection) -> AbstractContextManager[None]:
    """One transaction of ``con`` (or the caller's open one), so what it checked stays true.

    Read-only use: the transaction is committed, or rolled back on error.
    """
    return transaction(con, "reading a dataset", join_open=True)


def resolve_relation(
    con: duckdb.DuckDBPyConnection, table_key: str, *, dataset: str | None = None
) -> Relation:
    """The existing table or view ``table_key`` names; read it as ``relation.sql()``.

    Call it inside ``snapshot(con)`` together with the read, so the relation
    cannot vanish in between.

    Raises
    ------
    RelationMissingError
        The key is not a valid table key, or names no table or view.
    """
    owner = f"dataset {dataset!r} is registered as {table_key}" if dataset else f"{table_key}"
    try:
        relation = find_relation(con, parse_table_key(table_key))
    except InvalidTableKeyError as exc:
        msg = (
            f"{owner}, which is not a valid table key, so nothing is read; "
            f"check the catalog with: ducksets drift {database_path(con)}"
        )
        raise RelationMissingError(msg, dataset=dataset, table_key=table_key) from exc
    if relation is None:
        msg = (
            f"{owner}, but no table or view has that name; nothing is read (no file, "
            f"no other database); check the catalog with: ducksets drift {database_path(con)}"
        )
        raise RelationMissingError(msg, dataset=dataset, table_key=table_key)
    return relation


def dataset_relation(
    con: duckdb.DuckDBPyConnection, name: str, *, pack_schema: str = PACK_SCHEMA
) -> duckdb.DuckDBPyRelation:
    """The relation of the dataset called ``name``; nothing is read until you ask.

    The catalog is read as it is now, and the relation is built on ``con``
    itself: DuckDB relations belong to their connection, so in threads give
    each thread its own ``con.cursor()`` and call this with it. The relation
    names the table or view by its fully quoted three-part name; if it is
    dropped before you read, the read fails (measured: DuckDB does not fall
    back to a file then).

    Parameters
    ----------
    con
        A connection whose database has the pack installed.
    name
        The dataset name.
    pack_schema
        The schema the pack is installed in.

    Raises
    ------
    UnknownDatasetError
        No dataset has that name; the message suggests close names.
    RelationMissingError
        The dataset's key names no existing table or view.
    DatasetUnreadableError
        The relation exists but fails to bind (a view over a dropped table).
    """
    require_connection("con", con)
    require_str("name", name, what="a dataset name")
    require_str("pack_schema", pack_schema, what="a schema name")
    with snapshot(con):
        table_key = lookup_table_key(con, name, pack_schema=pack_schema)
        relation = resolve_relation(con, table_key, dataset=name)
        try:
            return con.sql(f"SELECT * FROM {relation.sql()}")
        except duckdb.Error as exc:
            raise unreadable(name, table_key, exc) from exc


def unreadable(dataset: str, table_key: str, exc: duckdb.Error) -> DatasetUnreadableError:
    """The error for a relation that exists but fails to read (a view over a dropped table)."""
    msg = (
        f"dataset {dataset!r} ({table_key}) exists but cannot be read: {first_line(exc)}; "
        "check the relation, and the pack with: ducksets check DB"
    )
    return DatasetUnreadableError(msg, dataset=dataset, table_key=table_key)
