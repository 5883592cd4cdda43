"""What a database holds, asked the way DuckDB itself resolves names.

DuckDB compares names ignoring the case of ASCII letters only: ``"Ä"`` and
``"ä"`` are two tables, ``"Ab"`` and ``"AB"`` one. A two-part key
``schema.name`` names a schema of the current database, never an attached
database's ``main`` schema. Every existence check of ducksets goes through
``find_relation``, so reads, registration, sync and drift agree.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Literal

import duckdb

from ducksets._names import SQL_ASCII_FOLD, fold_name
from ducksets._query import fetch_one
from ducksets.keys import TableKey
from ducksets.sqltext import quote_identifier

RelationKind = Literal["table", "view"]


@dataclass(frozen=True)
class Relation:
    """An existing table or view, with its names spelled as DuckDB's catalog holds them."""

    database: str
    schema: str
    name: str
    kind: RelationKind

    def sql(self) -> str:
        """The fully qualified, fully quoted name: nothing else can resolve from it."""
        return ".".join(quote_identifier(p) for p in (self.database, self.schema, self.name))


def database_path(con: duckdb.DuckDBPyConnection) -> str:
    """The current database's file, shell-quoted, for messages; ``DB`` for a memory database."""
    row = fetch_one(
        con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    )
    return shlex.quote(str(row[0])) if row and row[0] else "DB"


def current_database(con: duckdb.DuckDBPyConnection) -> str:
    """The connection's default database, which two-part keys name."""
    row = fetch_one(con, "SELECT current_database()")
    assert row is not None  # current_database() always returns one row
    return str(row[0])


_FIND_RELATION = f"""
    SELECT database_name, schema_name, relation_name, kind
    FROM (
        SELECT database_name, schema_name, table_name AS relation_name, 'table' AS kind
        FROM duckdb_tables()
        UNION ALL
        SELECT database_name, schema_name, view_name, 'view'
        FROM duckdb_views()
        WHERE NOT internal
    )
    WHERE {SQL_ASCII_FOLD.format("database_name")} = ?
        AND {SQL_ASCII_FOLD.format("schema_name")} = ?
        AND {SQL_ASCII_FOLD.format("relation_name")} = ?
"""


def find_relation(con: duckdb.DuckDBPyConnection, key: TableKey) -> Relation | None:
    """The table or view ``key`` names, resolved by DuckDB's rules; ``None`` when none exists.

    Nothing else stands in for a missing relation: no file (replacement
    scans), no attached database's ``main`` schema.
    """
    database = key.database if key.database is not None else current_database(con)
    wanted = (database, key.schema, key.name)
    rows = con.execute(_FIND_RELATION, [fold_name(p) for p in wanted]).fetchall()
    if not rows:
        return None
    # DuckDB refuses two names that differ only in ASCII case, so one row is
    # the rule; an exact spelling wins should a catalog ever hold both.
    exact = [r for r in rows if tuple(r[:3]) == wanted]
    database_name, schema_name, relation_name, kind = (exact or rows)[0]
    return Relation(database_name, schema_name, relation_name, kind)


def relation_kind(con: duckdb.DuckDBPyConnection, key: TableKey) -> RelationKind | None:
    """``table``, ``view``, or ``None`` when ``key`` names no relation."""
    relation = find_relation(con, key)
    return None if relation is None else relation.kind
