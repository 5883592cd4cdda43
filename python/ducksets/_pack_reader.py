"""The pack as a database holds it, and as the pack's own files make it in a scratch DuckDB.

Reading only: ``integrity`` compares the two and words the problems.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import duckdb

from ducksets._pack_keyless import keyless_sql
from ducksets._pack_source import table_definition, table_sql_text
from ducksets.errors import PackError, first_line
from ducksets.pack import (
    PACK_SCHEMA,
    PackFile,
    pack_files,
    render_sql,
)
from ducksets.sqltext import qualified_name

if TYPE_CHECKING:
    from sqlglot.tokens import Token  # type: ignore[attr-defined]

MACRO_KINDS = {"macro": "macro", "table_macro": "table macro"}


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


@dataclass(frozen=True)
class TableShapes:
    """The pack tables as this DuckDB makes them.

    ``columns`` by table name; ``bodies``: each table's CREATE statement from
    its column list on (``table_body``), with its keys, constraints and collations.
    """

    columns: Mapping[str, tuple[Column, ...]]
    bodies: Mapping[str, str]


_EXPECTED = "ducksets_expected_"
_shapes: dict[tuple[str, ...], TableShapes] = {}  # by the table files' text; DuckDB is one


def expected_tables(
    con: duckdb.DuckDBPyConnection | None = None,
) -> Mapping[str, tuple[Column, ...]]:
    """The pack tables' columns, as the pack's table files make them (``table_shapes``)."""
    return table_shapes(con).columns


def table_shapes(
    con: duckdb.DuckDBPyConnection | None = None, *, keyless: bool = False
) -> TableShapes:
    """The pack tables as the pack's own table files make them, once per process.

    Each file's table is created as a temp table through a cursor of ``con``:
    a cursor has a temp catalog of its own, gone when it closes, and a
    read-only database allows temp tables. So no second database is opened
    (that costs about 15 ms); without a usable ``con``, a private one is.
    ``keyless``: the DuckLake variant of the files (``_pack_keyless``); the
    columns are the same, the CREATE text has no keys.
    """
    tables = {f.object_name: f for f in pack_files() if f.kind == "table" and f.object_name}
    if keyless:
        tables = {name: _keyless_file(f) for name, f in tables.items()}
    key = (str(keyless), *(f.sql for f in tables.values()))
    shapes = _shapes.get(key)
    if shapes is None:
        shapes = _shapes.setdefault(key, _make_shapes(con, tables))
    return shapes


def _keyless_file(f: PackFile) -> PackFile:
    try:
        return PackFile(f.name, keyless_sql(f.name, f.sql, "table"))
    except ValueError as exc:
        raise PackError(str(exc)) from exc


def clear_shape_caches() -> None:
    """Forget the pack's shapes read so far (a test that swaps the pack directory)."""
    _shapes.clear()
    _expected.clear()


def _make_shapes(
    con: duckdb.DuckDBPyConnection | None, tables: Mapping[str, PackFile]
) -> TableShapes:
    cursor = None
    if con is not None:
        try:
            cursor = con.cursor()
        except duckdb.Error:
            cursor = None  # a closed connection: a private database below
    if cursor is not None:
        try:
            return _read_shapes(cursor, tables)
        except PackError:
            pass  # a connection that refuses temp tables: the private database says
        finally:
            cursor.close()
    scratch = duckdb.connect()
    try:
        return _read_shapes(scratch, tables)
    finally:
        scratch.close()


def _read_shapes(scratch: duckdb.DuckDBPyConnection, tables: Mapping[str, PackFile]) -> TableShapes:
    for name, f in tables.items():
        definition = table_definition(f.sql)
        if definition is None:
            msg = (
                f"the pack's {f.name} has no 'CREATE TABLE IF NOT EXISTS ... (\n...\n);' statement"
            )
            raise PackError(msg)
        run_scratch(scratch, f.name, f"CREATE TEMP TABLE {_EXPECTED}{name} ({definition}\n)")
    made = [_EXPECTED + name for name in tables]
    found = read_tables(scratch, "temp", "main", made)
    rows = scratch.execute(
        _TABLE_SQL.format(names=", ".join("?" for _ in made)), ["temp", "main", *made]
    )
    bodies = {}
    for table, sql in rows.fetchall():
        start = (sql or "").find(f"{table}(")
        bodies[table[len(_EXPECTED) :]] = sql[start + len(table) :] if start >= 0 else sql or ""
    columns = {name: found[_EXPECTED + name][1] for name in tables if _EXPECTED + name in found}
    return TableShapes(columns, bodies)


def read_table_sql(
    con: duckdb.DuckDBPyConnection,
    database: str,
    schema: str,
    tables: Sequence[str],
    *,
    ducklake: bool = False,
) -> dict[str, str]:
    """Each table's CREATE statement from its column list on, without its qualified name.

    ``ducklake``: the database is a DuckLake, whose text is normalised (``table_sql_text``).
    """
    names = ", ".join("?" for _ in tables)
    rows = con.execute(_TABLE_SQL.format(names=names), [database, schema, *tables]).fetchall()
    return {
        table: table_body(table, table_sql_text(sql or "", ducklake=ducklake))
        for table, sql in rows
    }


def table_body(table: str, sql: str) -> str:
    # DuckDB prints CREATE TABLE <schema or db.schema>.<table>(...): only the
    # qualifier depends on where the pack was installed.
    start = sql.find(f".{table}(")
    return sql[start + len(table) + 1 :] if start >= 0 else sql


_expected: dict[tuple[str, str | None], PackShape] = {}  # by target; the pack is one


def expected_shape(pack_schema: str = PACK_SCHEMA, database: str | None = None) -> PackShape:
    """The whole pack as a scratch install makes it (macros qualified as they would be).

    Made once per process and target (about as long as an install).
    """
    key = (pack_schema, database)
    shape = _expected.get(key)
    if shape is None:
        shape = _expected.setdefault(key, _scratch_shape(pack_schema, database))
    return shape


def known_shape(pack_schema: str, database: str | None) -> PackShape | None:
    """``expected_shape`` if this process has made it already, else ``None``."""
    return _expected.get((pack_schema, database))


def _scratch_shape(pack_schema: str, database: str | None) -> PackShape:
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
    # sqlglot takes longer to import than most CLI verbs take to run: only
    # here, where a definition differs from the scratch install's text.
    from sqlglot import TokenType
    from sqlglot.dialects.duckdb import DuckDB

    parens = (TokenType.L_PAREN, TokenType.R_PAREN)
    tokens = [t for t in _not_in(DuckDB().tokenize(definition)) if t.token_type not in parens]
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
    from sqlglot import TokenType

    out = list(tokens)
    position = 0
    while position < len(out) - 1:
        if (
            out[position].token_type == TokenType.NOT
            and out[position + 1].token_type == TokenType.L_PAREN
        ):
            depth = 0
            for inner in range(position + 1, len(out)):
                kind = out[inner].token_type
                depth += 1 if kind == TokenType.L_PAREN else -1 if kind == TokenType.R_PAREN else 0
                if depth == 0:
                    break
                if depth == 1 and kind == TokenType.IN:
                    out.insert(inner - 1, out.pop(position))
                    position -= 1
                    break
        position += 1
    return out
