"""The pack as a database holds it, and as the pack's own files make it in a scratch DuckDB.

Reading only: ``integrity`` compares the two and words the problems.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import duckdb
from sqlglot import TokenType
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.tokens import Token  # type: ignore[attr-defined]

from ducksets.errors import PackError, first_line
from ducksets.pack import (
    PACK_SCHEMA,
    pack_files,
    render_sql,
)
from ducksets.sqltext import qualified_name

MACRO_KINDS = {"macro": "macro", "table_macro": "table macro"}


_PARENS = (TokenType.L_PAREN, TokenType.R_PAREN)


SAME_TYPE = {"TEXT": "VARCHAR"}


# One scan of duckdb_functions() (about 10 ms, whatever the filter) reads both
# the pack's macros and every user macro named like a builtin. DuckDB resolves an
# unqualified function name to a user macro (temp, current or any attached
# database) before the builtin, and the pack and ducksets call builtins
# unqualified. The catalog is read through system.main, which always reaches the
# builtin (DuckDB 1.2 too); names match case-insensitively, as DuckDB's do.
# DuckDB 1.2 also lists its own macros under memory and temp, as internal.
_FUNCTIONS = """
    SELECT
        list({'db': database_name, 'schema': schema_name, 'name': function_name,
            'kind': function_type})
            FILTER (WHERE database_name <> 'system' AND NOT internal
                AND function_type IN ('macro', 'table_macro')) AS user_macros,
        bool_or(database_name = 'system' OR internal) AS builtin,
        list({'name': function_name, 'kind': function_type, 'params': parameters,
            'text': coalesce(macro_definition, '')})
            FILTER (WHERE database_name = ? AND schema_name = ?
                AND function_type IN ('macro', 'table_macro')) AS pack
    FROM system.main.duckdb_functions()
    GROUP BY system.main.lower(function_name)
    HAVING bool_or(NOT internal)
"""


# The full CREATE statement: constraints and collations, which duckdb_columns() lacks.
_TABLE_SQL = """
    SELECT table_name, sql FROM system.main.duckdb_tables()
    WHERE database_name = ? AND schema_name = ? AND table_name IN ({names})
"""


# duckdb_columns() lists the columns of views too; the subquery tells them apart
# (a join with duckdb_tables() costs twice as much).
_COLUMNS = """
    SELECT
        ducksets_c.table_name, ducksets_c.column_name, ducksets_c.data_type,
        ducksets_c.is_nullable,
        ducksets_c.table_name NOT IN (
            SELECT view_name FROM system.main.duckdb_views()
            WHERE database_name = ? AND schema_name = ?
        ) AS is_table
    FROM system.main.duckdb_columns() AS ducksets_c
    WHERE ducksets_c.database_name = ? AND ducksets_c.schema_name = ?
        AND ducksets_c.table_name IN ({names})
    ORDER BY ducksets_c.table_name, ducksets_c.column_index
"""


Column = tuple[str, str, bool]
"""A column as the pack makes it: name, DuckDB type, nullable."""


Overload = tuple[str, tuple[str, ...], str]
"""A macro overload: function type, parameter names, reprinted definition."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the pack in a database: the object and the sentence.

    ``missing``: the object does not exist (an install creates it);
    ``no_pack``: nothing of the pack exists (the one problem then);
    ``view``: a view is named like a pack table (no install or migration fits it).
    """

    obj: str
    text: str
    missing: bool = False
    no_pack: bool = False
    view: bool = False


@dataclass(frozen=True)
class PackShape:
    """What the pack makes: macro overloads by name, table columns by table name."""

    macros: Mapping[str, tuple[Overload, ...]]
    tables: Mapping[str, tuple[Column, ...]]


def expected_tables(pack_schema: str = PACK_SCHEMA) -> Mapping[str, tuple[Column, ...]]:
    """The pack tables' columns, from creating only the pack's tables in a scratch database."""
    return scratch_tables(pack_schema)[0]


@cache
def scratch_tables(
    pack_schema: str,
) -> tuple[Mapping[str, tuple[Column, ...]], Mapping[str, str]]:
    """Columns and the definition (``table_body``) of each pack table, from a scratch install."""
    scratch = duckdb.connect()
    try:
        for f in pack_files():
            if f.kind in ("schema", "table"):
                run_scratch(scratch, f.name, render_sql(f.sql, pack_schema=pack_schema))
        names = table_names()
        columns = {
            name: have
            for name, (_, have) in read_tables(scratch, "memory", pack_schema, names).items()
        }
        return columns, read_table_sql(scratch, "memory", pack_schema, names)
    finally:
        scratch.close()


def read_table_sql(
    con: duckdb.DuckDBPyConnection, database: str, schema: str, tables: Sequence[str]
) -> dict[str, str]:
    """Each table's CREATE statement from its column list on, without its qualified name."""
    names = ", ".join("?" for _ in tables)
    rows = con.execute(_TABLE_SQL.format(names=names), [database, schema, *tables]).fetchall()
    return {table: table_body(table, sql or "") for table, sql in rows}


def table_body(table: str, sql: str) -> str:
    # DuckDB prints CREATE TABLE <schema or db.schema>.<table>(...): only the
    # qualifier depends on where the pack was installed.
    start = sql.find(f".{table}(")
    return sql[start + len(table) + 1 :] if start >= 0 else sql


@cache
def expected_shape(pack_schema: str = PACK_SCHEMA, database: str | None = None) -> PackShape:
    """The whole pack as a scratch install makes it (macros qualified as they would be)."""
    scratch = duckdb.connect()
    try:
        target = "memory"
        if database is not None and database != target:
            scratch.execute(f"ATTACH ':memory:' AS {qualified_name(database)}")
            target = database
        for f in pack_files():
            run_scratch(
                scratch, f.name, render_sql(f.sql, pack_schema=pack_schema, database=database)
            )
        return PackShape(
            read_macros(scratch, target, pack_schema)[0],
            {
                name: columns
                for name, (_, columns) in read_tables(
                    scratch, target, pack_schema, table_names()
                ).items()
            },
        )
    finally:
        scratch.close()


def run_scratch(scratch: duckdb.DuckDBPyConnection, name: str, sql: str) -> None:
    try:
        scratch.execute(sql)
    except duckdb.Error as exc:
        msg = (
            f"the pack's {name} does not install into a scratch DuckDB {duckdb.__version__}, "
            f"so there is nothing to compare with: {first_line(exc)}"
        )
        raise PackError(msg) from exc


def table_names() -> tuple[str, ...]:
    return tuple(f.object_name for f in pack_files() if f.kind == "table" and f.object_name)


def read_macros(
    con: duckdb.DuckDBPyConnection, database: str, schema: str
) -> tuple[dict[str, tuple[Overload, ...]], tuple[Problem, ...]]:
    """The macros in ``database.schema``, and the problems of user macros named like builtins."""
    found: dict[str, list[Overload]] = {}
    shadows: list[Problem] = []
    for user_macros, builtin, pack in con.execute(_FUNCTIONS, [database, schema]).fetchall():
        for macro in pack or ():
            overload = (macro["kind"], tuple(macro["params"] or ()), macro["text"])
            found.setdefault(macro["name"], []).append(overload)
        if builtin:
            shadows.extend(_shadow_problem(m) for m in user_macros or ())
    macros = {name: tuple(sorted(overloads)) for name, overloads in found.items()}
    return macros, tuple(sorted(shadows, key=lambda p: p.obj))


def _shadow_problem(macro: Mapping[str, str]) -> Problem:
    where = qualified_name(macro["db"], macro["schema"], macro["name"])
    kind = macro["kind"]
    drop = "DROP MACRO TABLE" if kind == "table_macro" else "DROP MACRO"
    text = (
        f"{where} is a {MACRO_KINDS.get(kind, kind)} named like DuckDB's built-in {macro['name']}, "
        f"so the pack's and ducksets' calls of {macro['name']}() run it instead; "
        f"drop it ({drop} {where})"
    )
    return Problem(where, text)


def read_tables(
    con: duckdb.DuckDBPyConnection, database: str, schema: str, tables: Sequence[str]
) -> dict[str, tuple[str, tuple[Column, ...]]]:
    """Each existing table or view of ``tables``: its kind and columns, in one query."""
    names = ", ".join("?" for _ in tables)
    params = [database, schema, database, schema, *tables]
    rows = con.execute(_COLUMNS.format(names=names), params).fetchall()
    kinds: dict[str, str] = {}
    found: dict[str, list[Column]] = {}
    for table, column, data_type, nullable, is_table in rows:
        kinds[table] = "table" if is_table else "view"
        found.setdefault(table, []).append((column, data_type, bool(nullable)))
    return {table: (kinds[table], tuple(columns)) for table, columns in found.items()}


@lru_cache(maxsize=256)
def loosely(overloads: tuple[Overload, ...]) -> tuple[Overload, ...]:
    """Overloads with definitions as tokens, without parentheses or ``main.``.

    DuckDB stores a macro as a parse tree and reprints it, and the text depends
    on who stored it: read back under 2.0, a pack created by DuckDB 1.5 has
    ``main.list_value(...)``, ``x NOT IN (...)`` for ``NOT (x IN (...))`` and
    ``CAST('t' AS BOOLEAN)`` for ``TRUE``, and no ``AS MATERIALIZED`` on CTEs;
    one stored in a v1.0.0-storage file
    has ``VARCHAR`` for ``TEXT`` and fewer parentheses. So a definition that is
    not the scratch install's text exactly is compared as a sequence of tokens
    with only those differences undone: any added, removed, changed or moved
    token (a path, a table, a clause, LIMIT and OFFSET swapped) differs.
    """
    return tuple((kind, params, " ".join(_tokens(text))) for kind, params, text in overloads)


def _tokens(definition: str) -> list[str]:
    tokens = [t for t in _not_in(DuckDB().tokenize(definition)) if t.token_type not in _PARENS]
    kept: list[str] = []
    skip_dot = False
    for position, token in enumerate(tokens):
        if skip_dot:
            skip_dot = False
            continue
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if token.text.lower() == "main" and following is not None and following.text == ".":
            skip_dot = True
            continue
        text = token.text if token.token_type == TokenType.STRING else token.text.upper()
        if text == "MATERIALIZED":
            continue  # DuckDB 2.0 prints its CTE choice: WITH x AS MATERIALIZED (...)
        kept.append(SAME_TYPE.get(text, text))
        if kept[-4:] in (["CAST", "t", "AS", "BOOLEAN"], ["CAST", "f", "AS", "BOOLEAN"]):
            # DuckDB 1.5 reprints TRUE as CAST('t' AS BOOLEAN).
            kept[-4:] = ["TRUE" if kept[-3] == "t" else "FALSE"]
    return kept


def _not_in(tokens: list[Token]) -> list[Token]:
    """``NOT (x IN (...))`` as ``x NOT IN (...)``: DuckDB 2.0 prints the first, 1.5 the second."""
    out = list(tokens)
    position = 0
    while position < len(out) - 1:
        if out[position].token_type == TokenType.NOT and out[position + 1].token_type == _PARENS[0]:
            depth = 0
            for inner in range(position + 1, len(out)):
                kind = out[inner].token_type
                depth += 1 if kind == _PARENS[0] else -1 if kind == _PARENS[1] else 0
                if depth == 0:
                    break
                if depth == 1 and kind == TokenType.IN:
                    out.insert(inner - 1, out.pop(position))
                    position -= 1
                    break
        position += 1
    return out
