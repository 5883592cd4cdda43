"""What a database holds, asked the way DuckDB itself resolves names.

DuckDB compares names ignoring the case of ASCII letters only: ``"Ä"`` and
``"ä"`` are two tables, ``"Ab"`` and ``"AB"`` one. A two-part key
``schema.name`` names a schema of the current database, never an attached
database's ``main`` schema. Every existence check of ducksets goes through
``find_relation`` (one key) or ``find_relations`` (many keys, one catalog
scan), which share one query, so reads, registration, sync, drift and
exports agree.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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


# The relations ``$1``/``$2``/``$3`` (parallel lists of folded database,
# schema and name; a NULL database is the current one) name, with the index of
# the key each row answers: one catalog scan for any number of keys.
# ``{more}`` adds columns of ``relations`` to the result (``comment``, and a
# table's ``estimated_size``) for callers that read them in the same scan.
_FIND_RELATIONS_AND = f"""
    SELECT wanted.i, relations.database_name, relations.schema_name,
        relations.relation_name, relations.kind, current_database(){{more}}
    FROM (
        SELECT database_name, schema_name, table_name AS relation_name, 'table' AS kind,
            comment, estimated_size
        FROM duckdb_tables()
        UNION ALL
        SELECT database_name, schema_name, view_name, 'view', comment, NULL
        FROM duckdb_views()
        WHERE NOT internal
    ) AS relations
    JOIN (
        SELECT unnest(range(len($3::VARCHAR[]))) AS i,
            unnest($1::VARCHAR[]) AS d, unnest($2::VARCHAR[]) AS s, unnest($3::VARCHAR[]) AS n
    ) AS wanted
        ON {SQL_ASCII_FOLD.format("relations.database_name")}
            = coalesce(wanted.d, {SQL_ASCII_FOLD.format("current_database()")})
        AND {SQL_ASCII_FOLD.format("relations.schema_name")} = wanted.s
        AND {SQL_ASCII_FOLD.format("relations.relation_name")} = wanted.n
"""
_FIND_RELATIONS = _FIND_RELATIONS_AND.format(more="")


def find_relation(con: duckdb.DuckDBPyConnection, key: TableKey) -> Relation | None:
    """The table or view ``key`` names, resolved by DuckDB's rules; ``None`` when none exists.

    Nothing else stands in for a missing relation: no file (replacement
    scans), no attached database's ``main`` schema. The one-key case of
    ``find_relations``.
    """
    return find_relations(con, [key])[key]


def find_relations(
    con: duckdb.DuckDBPyConnection, keys: Iterable[TableKey]
) -> dict[TableKey, Relation | None]:
    """The table or view each key names (``None`` where none exists), in one catalog scan.

    The rule is ``find_relation``'s, for any number of keys at once: ASCII-only
    case folding, a two-part key names the current database, and nothing but
    an existing table or view (no file, URL or other database) answers.
    Keys equal by DuckDB's rule share one entry.
    """
    unique = list(dict.fromkeys(keys))
    found: dict[TableKey, Relation | None] = dict.fromkeys(unique)
    if not unique:
        return found
    rows = con.execute(_FIND_RELATIONS, key_parameters(unique)).fetchall()
    for key, row in chosen_rows(unique, rows).items():
        found[key] = Relation(row[1], row[2], row[3], row[4])
    return found


def key_parameters(keys: Sequence[TableKey]) -> list[list[str | None]]:
    """``_FIND_RELATIONS``' parameters $1-$3 for ``keys``: their folded parts."""
    folded: list[list[str | None]] = [
        [None if k.database is None else fold_name(k.database) for k in keys]
    ]
    folded += [[fold_name(k.schema) for k in keys], [fold_name(k.name) for k in keys]]
    return folded


def chosen_rows(
    keys: Sequence[TableKey], rows: Iterable[Sequence[Any]]
) -> dict[TableKey, Sequence[Any]]:
    """The one row per key of a result that starts with ``_FIND_RELATIONS``' columns.

    DuckDB refuses two names that differ only in ASCII case, so one row per
    key is the rule; an exact spelling wins should a catalog ever hold both.
    """
    chosen: dict[TableKey, Sequence[Any]] = {}
    exact: set[int] = set()
    for row in rows:
        i, database_name, schema_name, relation_name, _kind, default_database = row[:6]
        key = keys[i]
        if i in exact:
            continue
        if (database_name, schema_name, relation_name) == (
            key.database or default_database,
            key.schema,
            key.name,
        ):
            exact.add(i)
        elif key in chosen:
            continue
        chosen[key] = row
    return chosen


def use_statement(con: duckdb.DuckDBPyConnection) -> str | None:
    """The ``USE`` that puts a new cursor of ``con`` where ``con`` is, if ``con`` moved.

    A cursor starts in the database's default catalog and schema, not where a
    ``USE`` on the connection went (a DuckLake attached and ``USE``d, say).
    """
    where = "SELECT current_database(), current_schema()"
    # fetchall: DuckDB 2.0 refuses other work on a connection holding an unfinished result.
    [here] = con.execute(where).fetchall()
    with con.cursor() as fresh:
        [there] = fresh.execute(where).fetchall()
    if here == there:
        return None
    return f"USE {quote_identifier(here[0])}.{quote_identifier(here[1])}"


def placed_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A new cursor of ``con`` in ``con``'s current database and schema."""
    use = use_statement(con)
    cursor = con.cursor()
    if use is not None:
        cursor.execute(use)
    return cursor


def relation_kind(con: duckdb.DuckDBPyConnection, key: TableKey) -> RelationKind | None:
    """``table``, ``view``, or ``None`` when ``key`` names no relation."""
    relation = find_relation(con, key)
    return None if relation is None else relation.kind
