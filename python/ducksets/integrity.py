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
version and storage-format reprinting undone (see ``_pack_reader.loosely``). Macro
parameter defaults (``fmt := 'parquet'``) are not visible in
``duckdb_functions()``, so a changed default alone is not detected; callers
that run SQL a macro built (the exporter) verify that statement themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import duckdb

from ducksets._introspect import current_database
from ducksets._pack_reader import (
    MACRO_KINDS,
    Column,
    Overload,
    PackShape,
    Problem,
    expected_shape,
    loosely,
    read_macros,
    read_table_sql,
    read_tables,
    table_shapes,
)
from ducksets._pack_source import MIGRATIONS_TABLE
from ducksets._query import fetch_one
from ducksets.errors import PackIntegrityError
from ducksets.pack import (
    PACK_SCHEMA,
    check_target,
    is_ducklake,
    pack_steps,
    pack_version,
    parse_version,
)
from ducksets.sqltext import qualified_name

if TYPE_CHECKING:
    from ducksets.lint.diagnostic import Diagnostic

PACK_OBJECT_RULE = "DS102"
"""Diagnostic id of a pack object that is missing or differs from the pack (``ducksets check``)."""


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
    # A DuckLake holds the keyless variant (tables without keys): compare with that.
    ducklake = is_ducklake(con, target_db)
    shapes = table_shapes(con, keyless=ducklake)
    expected = shapes.columns
    actual = read_tables(con, target_db, pack_schema, tuple(expected))
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
            problems.append(Problem(where, text, view=True))
        elif have != columns:
            problems.extend(_column_problems(where, columns, have, repair_command(con, database)))
        else:
            checked.append(table)
    target = (target_db, pack_schema, database)
    return (*problems, *_definition_problems(con, target, shapes.bodies, checked, ducklake))


def _definition_problems(
    con: duckdb.DuckDBPyConnection,
    target: tuple[str, str, str | None],
    expected: Mapping[str, str],
    tables: Sequence[str],
    ducklake: bool,
) -> list[Problem]:
    """Tables with the pack's columns but other constraints or collations (one query).

    ``target``: the database's name, the pack's schema and ``database`` as the caller gave it.
    """
    if not tables:
        return []
    target_db, pack_schema, database = target
    problems = []
    found = read_table_sql(con, target_db, pack_schema, tables, ducklake=ducklake)
    for table, body in found.items():
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
    check_target(con, pack_schema=pack_schema, database=database)
    target_db = database or current_database(con)
    shape = expected_shape(pack_schema, database)
    macros, shadows = read_macros(con, target_db, pack_schema)
    problems = list(table_problems(con, pack_schema=pack_schema, database=database))
    missing_tables = {p.obj for p in problems if p.missing}
    missing_macros = [name for name in shape.macros if name not in macros]
    where = qualified_name(database, pack_schema)
    if len(missing_tables) == len(shape.tables) and len(missing_macros) == len(shape.macros):
        repair = repair_command(con, database)
        text = f"no ducksets pack in {where}; {repair} installs it"
        return (Problem(where, text, missing=True, no_pack=True),)
    records = qualified_name(database, pack_schema, MIGRATIONS_TABLE)
    if not any(p.obj == records for p in problems):
        problems.extend(_migration_problems(con, records, database))
    return (
        *_object_problems(con, pack_schema, database, shape, macros, problems),
        *shadows,
    )


def _migration_problems(
    con: duckdb.DuckDBPyConnection, records: str, database: str | None
) -> list[Problem]:
    """The pack's migrations that ``pack_migrations`` (in shape) does not record."""
    applied = {row[0] for row in con.execute(f"SELECT id FROM {records}").fetchall()}
    missing = [s.migration_name for s in pack_steps() if s.number not in applied | {None}]
    if not missing:
        return []
    text = (
        f"{records} does not record migration {', '.join(missing)}; "
        f"{repair_command(con, database)} applies and records it"
    )
    return [Problem(records, text)]


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
        if found is not None and found != overloads and loosely(found) == loosely(overloads):
            continue
        problem = _macro_problem(con, database, qualified, overloads, found)
        if problem is not None:
            problems.append(problem)
    return tuple(problems)


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
    kind = MACRO_KINDS.get(function_type, function_type)
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
        raise integrity_error(problems)


def integrity_error(problems: Sequence[str]) -> PackIntegrityError:
    """``require_pack``'s error for ``verify_pack``'s lines (at least one)."""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    msg = f"the ducksets pack is not intact: {problems[0]}{more}"
    return PackIntegrityError(msg, problems=tuple(problems))


def as_diagnostics(problems: Sequence[Problem]) -> list[Diagnostic]:
    """Problems as ``DS102`` diagnostics for ``ducksets check``, ``file`` naming each object."""
    # The linter's package, for ``ducksets check`` only: not with every catalog read.
    from ducksets.lint.diagnostic import Diagnostic

    return [Diagnostic(p.obj, 1, 1, PACK_OBJECT_RULE, "error", p.text) for p in problems]
