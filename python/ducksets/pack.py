"""The SQL pack: reading it, rendering it for a schema, installing it.

The files under ``macros/`` are written for the schema ``metadata``. To install
elsewhere, every ``metadata`` name token is replaced by the target qualifier
(found with sqlglot's tokenizer, so strings and comments are never touched).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
from sqlglot import TokenType
from sqlglot.dialects.duckdb import DuckDB

from ducksets._args import require_connection, require_str
from ducksets._introspect import current_database
from ducksets._pack_source import (
    HEADER,
    VERSION_LITERAL,
    default_script,
    join_script,
    read_manifest,
)
from ducksets._query import fetch_one
from ducksets._transaction import transaction
from ducksets.errors import (
    ArgumentTypeError,
    CatalogShapeError,
    PackError,
    PackVersionError,
    ReadOnlyDatabaseError,
    first_line,
)
from ducksets.sqltext import qualified_name, quote_literal

PACK_SCHEMA = "metadata"
"""The schema name the pack's files are written with, and the default target."""

_VERSION_FILE = "11_pack_version.sql"
_READABLE_VERSION = re.compile(r"([0-9]{1,9})\.([0-9]{1,9})\.([0-9]{1,9})")


@dataclass(frozen=True)
class PackFile:
    """One file of the pack: its name, its SQL, and the object it makes."""

    name: str
    sql: str

    @property
    def object_name(self) -> str | None:
        """The pack object the file makes (``dataset_rows``), ``None`` for the schema."""
        return self._header().group("name")

    @property
    def kind(self) -> str:
        """What the file makes: ``schema``, ``table``, ``macro``, ``table macro`` or ``row``."""
        return self._header().group("kind")

    def _header(self) -> re.Match[str]:
        first_line = self.sql.split("\n", 1)[0]
        match = HEADER.match(first_line)
        if match is None:
            msg = (
                f"{self.name}: first line {first_line!r} is not a pack header; "
                "start the file with '-- metadata.<object> (<kind>)'"
            )
            raise PackError(msg)
        return match


@dataclass(frozen=True)
class InstallResult:
    """What ``install_macros`` did.

    ``action`` is ``installed`` (no pack before), ``upgraded``, ``unchanged``
    (same version, objects re-created), ``downgraded`` (``force=True``),
    ``repaired`` (``force=True`` over an unreadable recorded version) or
    ``present`` (read-only database whose pack ``verify_pack`` finds intact).
    """

    database: str
    schema: str
    version_before: str | None
    version_after: str
    action: str
    created: tuple[str, ...]


def check_target(
    con: object = None,
    *,
    schema: object = PACK_SCHEMA,
    database: object = None,
    need_con: bool = True,
) -> None:
    """Raise a typed error naming the parameter unless the install target is well-formed."""
    if need_con:
        require_connection("con", con)
    require_str("schema", schema, what=f"a schema name such as {PACK_SCHEMA!r}")
    if database is not None:
        require_str("database", database, what="an attached database's name")


def pack_dir() -> Path:
    """The directory holding the pack: inside the wheel, or ``macros/`` of a checkout."""
    packaged = Path(__file__).with_name("macros")
    if packaged.is_dir():
        return packaged
    # Editable installs and source checkouts: the pack sits at the repository root.
    return Path(__file__).resolve().parents[2] / "macros"


def pack_files(directory: Path | None = None) -> tuple[PackFile, ...]:
    """The pack's files in install order, as ``MANIFEST`` lists them."""
    root = directory or pack_dir()
    return tuple(
        PackFile(name, (root / name).read_text(encoding="utf-8")) for name in read_manifest(root)
    )


@cache
def pack_version() -> str:
    """The version of the pack this package installs (from ``11_pack_version.sql``)."""
    text = (pack_dir() / _VERSION_FILE).read_text(encoding="utf-8")
    match = VERSION_LITERAL.search(text)
    if match is None:
        msg = f"{_VERSION_FILE}: no version literal like AS ('1.2.3') found"
        raise PackError(msg)
    return match.group("version")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``(major, minor, patch)`` of a release version like ``0.4.0``; ``None`` for anything else.

    >>> parse_version("0.10.2"), parse_version("0.4.0-rc1"), parse_version("")
    ((0, 10, 2), None, None)
    """
    match = _READABLE_VERSION.fullmatch(text)
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def render_sql(sql: str, *, schema: str = PACK_SCHEMA, database: str | None = None) -> str:
    """``sql`` with every ``metadata`` name token replaced by the target qualifier."""
    target = qualified_name(database, schema)
    if target == PACK_SCHEMA:
        return sql
    pieces: list[str] = []
    position = 0
    for token in DuckDB().tokenize(sql):
        if token.token_type == TokenType.VAR and token.text.lower() == PACK_SCHEMA:
            pieces.append(sql[position : token.start])
            pieces.append(target)
            position = token.end + 1
    pieces.append(sql[position:])
    return "".join(pieces)


def pack_script(*, schema: str = PACK_SCHEMA, database: str | None = None) -> str:
    """The whole pack as one transactional script, for ``duckdb`` CLI users."""
    check_target(schema=schema, database=database, need_con=False)
    if schema == PACK_SCHEMA and database is None:
        return default_script(pack_dir())
    rendered = tuple(render_sql(f.sql, schema=schema, database=database) for f in pack_files())
    qualifier = qualified_name(database, schema)
    return join_script(rendered, qualifier=qualifier, schema=schema, database=database)


def installed_version(
    con: duckdb.DuckDBPyConnection, *, schema: str = PACK_SCHEMA, database: str | None = None
) -> str | None:
    """The pack version recorded in the database, or ``None`` when none is installed.

    Raises
    ------
    CatalogShapeError
        ``pack_info`` lacks its ``pack`` or ``version`` column (an ALTERed table).
    """
    check_target(con, schema=schema, database=database)
    target_db = database or current_database(con)
    has_table = fetch_one(
        con,
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE database_name = ? AND schema_name = ? AND table_name = 'pack_info'",
        [target_db, schema],
    )
    if not has_table or not has_table[0]:
        return None
    table = qualified_name(database, schema, "pack_info")
    try:
        row = fetch_one(con, f"SELECT version FROM {table} WHERE pack = 'ducksets'")
    except duckdb.BinderException as exc:
        msg = (
            f"{table} lacks its pack or version column ({first_line(exc)}); "
            f"ALTER it back, or move it away and install again"
        )
        raise CatalogShapeError(msg, table=table) from exc
    return None if row is None else str(row[0])


def install_macros(
    con: duckdb.DuckDBPyConnection,
    *,
    schema: str = PACK_SCHEMA,
    database: str | None = None,
    force: bool = False,
) -> InstallResult:
    """Install or upgrade the pack, in one transaction.

    Parameters
    ----------
    con
        An open connection.
    schema
        Schema for the catalog and macros; every macro reads this schema's catalog.
    database
        An attached database to install into; default: the connection's current one.
        Macros then name it, so attach it under the same name when you use them.
    force
        Replace a newer installed pack (a downgrade).

    Returns
    -------
    InstallResult
        Versions before and after, the action taken and the objects created.

    Raises
    ------
    PackVersionError
        A newer pack, or an unreadable version, is recorded and ``force`` is false.
    CatalogShapeError
        A pack table exists with another shape (a view, an ALTERed column); names the repair.
    ReadOnlyDatabaseError
        The target database is read-only and its pack is missing, old or not intact.
    TransactionOpenError
        The connection has a transaction open.
    PackError
        A pack statement or the COMMIT failed (disk full, ...); nothing was changed.
    """
    # integrity reads the pack through this module: import it here, not at the top.
    from ducksets.integrity import repair_command, table_problems, verify_pack

    check_target(con, schema=schema, database=database)
    if not isinstance(force, bool):
        msg = f"force must be True or False, not {force!r}"
        raise ArgumentTypeError(msg, parameter="force", value=force)
    target_db = database or current_database(con)
    _require_database(con, target_db)
    version = pack_version()
    where = f"{target_db}.{schema}"
    if _is_read_only(con, target_db):
        problems = verify_pack(con, pack_schema=schema, database=database)
        if not problems:
            return InstallResult(target_db, schema, version, version, "present", ())
        absent = problems[0].startswith("no ducksets pack")
        found = "has no pack in" if absent else "the pack is not intact in"
        msg = (
            f"database {target_db!r} is read-only and {found} schema {schema!r}: {problems[0]}; "
            f"open it writable once to install pack {version} "
            f"({repair_command(con, database)}), then read-only connections can use it"
        )
        raise ReadOnlyDatabaseError(msg)
    # A pack table of another shape would make the install fail half-way, or keep it as is.
    shape = table_problems(con, pack_schema=schema, database=database, missing_ok=True)
    if shape:
        raise CatalogShapeError(shape[0].text, table=shape[0].obj)
    before = installed_version(con, schema=schema, database=database)
    unreadable = before is not None and parse_version(before) is None
    if unreadable and not force:
        msg = (
            f"{qualified_name(database, schema, 'pack_info')} holds an unreadable version "
            f"{before!r}; "
            f"{repair_command(con, database, force=True)} repairs it"
        )
        raise PackVersionError(msg)
    downgrade = not unreadable and before is not None and _newer(before, version)
    if downgrade and not force:
        msg = (
            f"{where} has pack {before}, newer than {version} from this ducksets; upgrade "
            f"ducksets, or downgrade with force=True ({repair_command(con, database, force=True)})"
        )
        raise PackVersionError(msg)
    files = pack_files()
    objects = {f.object_name for f in files if f.kind != "row" and f.object_name is not None}
    objects_before = _objects_present(con, target_db, schema, objects)
    statements = [render_sql(f.sql, schema=schema, database=database) for f in files]
    names = [f.name for f in files]
    if downgrade or unreadable:
        # The pack's own guard refuses these; forgetting the record is what force means.
        table = qualified_name(database, schema, "pack_info")
        statements.insert(-1, f"DELETE FROM {table} WHERE pack = {quote_literal('ducksets')}")
        names.insert(-1, "(force: forget the recorded version)")
    _run_in_transaction(con, statements, names)
    created = tuple(sorted(_objects_present(con, target_db, schema, objects) - objects_before))
    action = "repaired" if unreadable else _action(before, version)
    return InstallResult(target_db, schema, before, version, action, created)


def _action(before: str | None, after: str) -> str:
    if before is None:
        return "installed"
    if before == after:
        return "unchanged"
    return "downgraded" if _newer(before, after) else "upgraded"


def _newer(version: str, than: str) -> bool:
    """Whether readable ``version`` is newer than ``than`` (unreadable ones are never newer)."""
    return (parse_version(version) or (-1,)) > (parse_version(than) or (-1,))


def _run_in_transaction(
    con: duckdb.DuckDBPyConnection, statements: Sequence[str], names: Sequence[str]
) -> None:
    done = 0
    try:
        with transaction(con, "install_macros"):
            for sql in statements:
                con.execute(sql)
                done += 1
    except duckdb.Error as exc:
        # done == len(names): every statement ran and the COMMIT itself failed.
        step = f"installing {names[done]}" if done < len(names) else "committing the install"
        msg = f"{step} failed, nothing was changed: {first_line(exc)}"
        raise PackError(msg) from exc


def _objects_present(
    con: duckdb.DuckDBPyConnection, database: str, schema: str, objects: set[str]
) -> set[str]:
    """Which of the pack's ``objects`` (tables and macros) exist in ``database.schema``."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? "
        "UNION SELECT function_name FROM duckdb_functions() "
        "WHERE database_name = ? AND schema_name = ? AND function_type IN ('macro', 'table_macro')",
        [database, schema, database, schema],
    ).fetchall()
    return {row[0] for row in rows} & objects


def _require_database(con: duckdb.DuckDBPyConnection, database: str) -> None:
    rows = con.execute("SELECT database_name FROM duckdb_databases()").fetchall()
    attached = sorted(str(row[0]) for row in rows)
    if database not in attached:
        msg = (
            f"no attached database {database!r}; attached: {', '.join(attached)}. "
            f"ATTACH it first (ATTACH 'file.db' AS {qualified_name(database)})"
        )
        raise PackError(msg)


def _is_read_only(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    row = fetch_one(
        con, "SELECT readonly FROM duckdb_databases() WHERE database_name = ?", [database]
    )
    return bool(row and row[0])
