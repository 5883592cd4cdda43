"""Is the pack in a database complete, untampered and of the right shape?

The expected pack is not described twice: it is what installing the pack's
own files into a scratch in-memory DuckDB makes, read back from
``duckdb_functions()``, ``duckdb_columns()`` and ``duckdb_tables()`` once per
process. A database's pack is compared with it object by object: every macro
by kind, parameters and DuckDB's reprinted definition; every pack table by kind
(a table, not a view), columns (name, type, nullability, order) and its CREATE
statement (keys, constraints, collations); and the version row. User macros
named like a DuckDB builtin are problems too: unqualified calls reach them.

Definitions are compared exactly, or else as token sequences with DuckDB's
version and storage-format reprinting undone (see ``_loosely``). Macro
parameter defaults (``fmt := 'parquet'``) are not visible in
``duckdb_functions()``, so a changed default alone is not detected; callers
that run SQL a macro built (the exporter) verify that statement themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import duckdb
from sqlglot import TokenType
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.tokens import Token  # type: ignore[attr-defined]

from ducksets._introspect import current_database
from ducksets._query import fetch_one
from ducksets.errors import PackError, PackIntegrityError, first_line
from ducksets.lint import Diagnostic
from ducksets.pack import (
    PACK_SCHEMA,
    check_target,
    pack_files,
    pack_version,
    parse_version,
    render_sql,
)
from ducksets.sqltext import qualified_name

PACK_OBJECT_RULE = "DS102"
"""Diagnostic id of a pack object that is missing or differs from the pack (``ducksets check``)."""

_KIND = {"macro": "macro", "table_macro": "table macro"}
_PARENS = (TokenType.L_PAREN, TokenType.R_PAREN)
_SAME_TYPE = {"TEXT": "VARCHAR"}

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
    ``no_pack``: nothing of the pack exists (the one problem then).
    """

    obj: str
    text: str
    missing: bool = False
    no_pack: bool = False


@dataclass(frozen=True)
class PackShape:
    """What the pack makes: macro overloads by name, table columns by table name."""

    macros: Mapping[str, tuple[Overload, ...]]
    tables: Mapping[str, tuple[Column, ...]]


def expected_tables(pack_schema: str = PACK_SCHEMA) -> Mapping[str, tuple[Column, ...]]:
    """The pack tables' columns, from creating only the pack's tables in a scratch database."""
    return _scratch_tables(pack_schema)[0]


@cache
def _scratch_tables(
    pack_schema: str,
) -> tuple[Mapping[str, tuple[Column, ...]], Mapping[str, str]]:
    """Columns and the definition (``_table_body``) of each pack table, from a scratch install."""
    scratch = duckdb.connect()
    try:
        for f in pack_files():
            if f.kind in ("schema", "table"):
                _run_scratch(scratch, f.name, render_sql(f.sql, schema=pack_schema))
        names = _table_names()
        columns = {
            name: have
            for name, (_, have) in _read_tables(scratch, "memory", pack_schema, names).items()
        }
        return columns, _read_table_sql(scratch, "memory", pack_schema, names)
    finally:
        scratch.close()


def _read_table_sql(
    con: duckdb.DuckDBPyConnection, database: str, schema: str, tables: Sequence[str]
) -> dict[str, str]:
    """Each table's CREATE statement from its column list on, without its qualified name."""
    names = ", ".join("?" for _ in tables)
    rows = con.execute(_TABLE_SQL.format(names=names), [database, schema, *tables]).fetchall()
    return {table: _table_body(table, sql or "") for table, sql in rows}


def _table_body(table: str, sql: str) -> str:
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
            _run_scratch(scratch, f.name, render_sql(f.sql, schema=pack_schema, database=database))
        return PackShape(
            _read_macros(scratch, target, pack_schema)[0],
            {
                name: columns
                for name, (_, columns) in _read_tables(
                    scratch, target, pack_schema, _table_names()
                ).items()
            },
        )
    finally:
        scratch.close()


def _run_scratch(scratch: duckdb.DuckDBPyConnection, name: str, sql: str) -> None:
    try:
        scratch.execute(sql)
    except duckdb.Error as exc:
        msg = (
            f"the pack's {name} does not install into a scratch DuckDB {duckdb.__version__}, "
            f"so there is nothing to compare with: {first_line(exc)}"
        )
        raise PackError(msg) from exc


def _table_names() -> tuple[str, ...]:
    return tuple(f.object_name for f in pack_files() if f.kind == "table" and f.object_name)


def _read_macros(
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
        f"{where} is a {_KIND.get(kind, kind)} named like DuckDB's built-in {macro['name']}, "
        f"so the pack's and ducksets' calls of {macro['name']}() run it instead; "
        f"drop it ({drop} {where})"
    )
    return Problem(where, text)


def _read_tables(
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


def repair_command(
    con: duckdb.DuckDBPyConnection, database: str | None = None, *, force: bool = False
) -> str:
    """``ducksets install <the database's file>``, or ``install_macros(con)`` for memory."""
    row = fetch_one(
        con,
        "SELECT path FROM system.main.duckdb_databases() "
        "WHERE database_name = coalesce(?, current_database())",
        [database],
    )
    path = row[0] if row else None
    if path:
        return f"ducksets install {'--force ' if force else ''}{path}"
    return "install_macros(con, force=True)" if force else "install_macros(con)"


def table_problems(
    con: duckdb.DuckDBPyConnection,
    *,
    pack_schema: str = PACK_SCHEMA,
    database: str | None = None,
    missing_ok: bool = False,
) -> tuple[Problem, ...]:
    """Pack tables that are views or whose columns differ from the pack's (one query).

    ``missing_ok``: a missing table is no problem (an install creates it).
    """
    target_db = database or current_database(con)
    expected = expected_tables(pack_schema)
    actual = _read_tables(con, target_db, pack_schema, tuple(expected))
    problems: list[Problem] = []
    checked: list[str] = []
    for table, columns in expected.items():
        where = qualified_name(database, pack_schema, table)
        if table not in actual:
            if not missing_ok:
                repair = repair_command(con, database)
                problems.append(Problem(where, f"{where} is missing; {repair} creates it", True))
            continue
        kind, have = actual[table]
        if kind != "table":
            repair = repair_command(con, database)
            text = (
                f"{where} is a {kind}, the pack needs a table; "
                f"move it away (ALTER VIEW {where} RENAME TO ...) or drop it, then {repair}"
            )
            problems.append(Problem(where, text))
        elif have != columns:
            problems.extend(_column_problems(where, columns, have, repair_command(con, database)))
        else:
            checked.append(table)
    return (*problems, *_definition_problems(con, target_db, pack_schema, database, checked))


def _definition_problems(
    con: duckdb.DuckDBPyConnection,
    target_db: str,
    pack_schema: str,
    database: str | None,
    tables: Sequence[str],
) -> list[Problem]:
    """Tables with the pack's columns but other constraints or collations (one query)."""
    if not tables:
        return []
    expected = _scratch_tables(pack_schema)[1]
    problems = []
    for table, body in _read_table_sql(con, target_db, pack_schema, tables).items():
        if body == expected.get(table, body):
            continue
        where = qualified_name(database, pack_schema, table)
        text = (
            f"{where} has other keys, constraints or collations than the pack's "
            f"({table}{expected[table].rstrip(';')}), found ({table}{body.rstrip(';')}); "
            f"move the table away (ALTER TABLE {where} RENAME TO ...) and "
            f"{repair_command(con, database)}"
        )
        problems.append(Problem(where, text))
    return problems


def _column_problems(
    where: str, expected: Sequence[Column], actual: Sequence[Column], repair: str
) -> list[Problem]:
    away = f"or move the table away (ALTER TABLE {where} RENAME TO ...) and {repair}"
    have = {column[0]: column for column in actual}
    wanted = {column[0]: column for column in expected}
    problems = []
    for name, data_type, nullable in expected:
        null_text = "" if nullable else " NOT NULL"
        if name not in have:
            text = (
                f"{where} lacks column {name} {data_type}{null_text}; "
                f"ALTER TABLE {where} ADD (or RENAME back) {name}, {away}"
            )
        elif have[name][1] != data_type:
            text = (
                f"{where} has column {name} {have[name][1]}, the pack needs {data_type}; "
                f"ALTER TABLE {where} ALTER {name} TYPE {data_type}, {away}"
            )
        elif have[name][2] != nullable:
            allows = "allows NULL" if have[name][2] else "is NOT NULL"
            fix = "SET NOT NULL" if not nullable else "DROP NOT NULL"
            text = (
                f"{where} column {name} {allows}, the pack's is{null_text or ' nullable'}; "
                f"ALTER TABLE {where} ALTER {name} {fix}, {away}"
            )
        else:
            continue
        problems.append(Problem(where, text))
    for name, data_type, _ in actual:
        if name not in wanted:
            problems.append(
                Problem(
                    where,
                    f"{where} has column {name} {data_type}, which the pack does not make; "
                    f"ALTER TABLE {where} DROP {name}, {away}",
                )
            )
    if not problems and [c[0] for c in actual] != [c[0] for c in expected]:
        order = ", ".join(c[0] for c in expected)
        problems.append(
            Problem(
                where, f"{where} has its columns in another order than the pack's ({order}); {away}"
            )
        )
    return problems


def pack_problems(
    con: duckdb.DuckDBPyConnection, *, pack_schema: str = PACK_SCHEMA, database: str | None = None
) -> tuple[Problem, ...]:
    """Every problem of the pack in ``database.pack_schema``, with the object each concerns."""
    check_target(con, schema=pack_schema, database=database)
    target_db = database or current_database(con)
    shape = expected_shape(pack_schema, database)
    macros, shadows = _read_macros(con, target_db, pack_schema)
    problems = list(table_problems(con, pack_schema=pack_schema, database=database))
    missing_tables = {p.obj for p in problems if p.missing}
    missing_macros = [name for name in shape.macros if name not in macros]
    where = qualified_name(database, pack_schema)
    if len(missing_tables) == len(shape.tables) and len(missing_macros) == len(shape.macros):
        repair = repair_command(con, database)
        text = f"no ducksets pack in {where}; {repair} installs it"
        return (Problem(where, text, missing=True, no_pack=True),)
    return (
        *_object_problems(con, pack_schema, database, shape, macros, problems),
        *shadows,
    )


def _object_problems(
    con: duckdb.DuckDBPyConnection,
    pack_schema: str,
    database: str | None,
    shape: PackShape,
    macros: Mapping[str, tuple[Overload, ...]],
    problems: list[Problem],
) -> tuple[Problem, ...]:
    """Problems of the version row and the pack's macros, after the tables' ``problems``."""
    where = qualified_name(database, pack_schema)
    missing_macros = [name for name in shape.macros if name not in macros]
    info = qualified_name(database, pack_schema, "pack_info")
    if not any(p.obj == info for p in problems):
        version, other_version = _version_problem(con, info, where, database)
        if version is not None:
            problems.append(version)
        if other_version:
            return tuple(problems)  # another release: its objects differ by design
    if missing_macros and len(missing_macros) == len(shape.macros):
        repair = repair_command(con, database)
        count = len(missing_macros)
        text = f"all {count} pack macros are missing from {where}; {repair} re-creates them"
        return (*problems, Problem(where, text))
    for name, overloads in shape.macros.items():
        qualified = qualified_name(database, pack_schema, name)
        found = macros.get(name)
        if found is not None and found != overloads and _loosely(found) == _loosely(overloads):
            continue
        problem = _macro_problem(con, database, qualified, overloads, found)
        if problem is not None:
            problems.append(problem)
    return tuple(problems)


@lru_cache(maxsize=256)
def _loosely(overloads: tuple[Overload, ...]) -> tuple[Overload, ...]:
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
        kept.append(_SAME_TYPE.get(text, text))
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


def _version_problem(
    con: duckdb.DuckDBPyConnection, info: str, where: str, database: str | None
) -> tuple[Problem | None, bool]:
    """The version row's problem, and whether it records another (readable) release."""
    repair = repair_command(con, database)
    row = fetch_one(con, f"SELECT version FROM {info} WHERE pack = 'ducksets'")
    current = pack_version()
    if row is None:
        return Problem(info, f"{info} records no ducksets pack; {repair} records it"), False
    found = str(row[0])
    parsed = parse_version(found)
    if parsed is None:
        force = repair_command(con, database, force=True)
        text = f"{info} holds an unreadable version {found!r}; {force} repairs it"
        return Problem(info, text), False
    if found == current:
        return None, False
    if parsed > (parse_version(current) or ()):
        text = f"pack {found} in {where} is newer than this ducksets' {current}; upgrade ducksets"
    else:
        text = (
            f"pack {found} in {where} is older than this ducksets' {current}; {repair} upgrades it"
        )
    return Problem(info, text), True


def _macro_problem(
    con: duckdb.DuckDBPyConnection,
    database: str | None,
    name: str,
    expected: tuple[Overload, ...],
    actual: tuple[Overload, ...] | None,
) -> Problem | None:
    # Scalar and table macros are separate namespaces: a scalar macro named like a
    # pack table macro neither replaces nor shadows it, so only the pack's kind counts.
    function_type = expected[0][0]
    same_kind = tuple(o for o in actual or () if o[0] == function_type)
    if same_kind == expected:
        return None
    repair = repair_command(con, database)
    kind = _KIND.get(function_type, function_type)
    if not same_kind:
        return Problem(name, f"{name} ({kind}) is missing; {repair} re-creates it", True)
    if [o[1] for o in same_kind] != [o[1] for o in expected]:
        params = ", ".join(", ".join(o[1]) for o in same_kind)
        what = f"has parameters ({params}), the pack's differ"
    else:
        what = "has another definition than the pack's"
    return Problem(name, f"{name} ({kind}) {what}; {repair} replaces it")


def verify_pack(
    con: duckdb.DuckDBPyConnection, *, pack_schema: str = PACK_SCHEMA, database: str | None = None
) -> tuple[str, ...]:
    """What is wrong with the pack in the database; empty when it is complete and untampered.

    Parameters
    ----------
    con
        An open connection (read-only is fine: nothing is written).
    pack_schema
        The schema the pack was installed in.
    database
        An attached database the pack was installed into (``install_macros(database=...)``);
        default: the connection's current database, installed without a database name.

    Returns
    -------
    tuple[str, ...]
        One line per missing or differing object, naming it and the repair.
    """
    return tuple(p.text for p in pack_problems(con, pack_schema=pack_schema, database=database))


def require_pack(
    con: duckdb.DuckDBPyConnection, *, pack_schema: str = PACK_SCHEMA, database: str | None = None
) -> None:
    """Raise ``PackIntegrityError`` unless ``verify_pack`` finds nothing.

    Raises
    ------
    PackIntegrityError
        The pack is missing, incomplete or changed; ``problems`` lists each object.
    """
    problems = verify_pack(con, pack_schema=pack_schema, database=database)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        msg = f"the ducksets pack is not intact: {problems[0]}{more}"
        raise PackIntegrityError(msg, problems=problems)


def as_diagnostics(problems: Sequence[Problem]) -> list[Diagnostic]:
    """Problems as ``DS102`` diagnostics for ``ducksets check``, ``file`` naming each object."""
    return [Diagnostic(p.obj, 1, 1, PACK_OBJECT_RULE, "error", p.text) for p in problems]
