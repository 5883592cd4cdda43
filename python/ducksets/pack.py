"""The SQL pack: reading it, rendering it for a schema, installing it.

The files under ``macros/`` are written for the schema ``metadata``. To install
elsewhere, every ``metadata`` name token is replaced by the target qualifier
(found with sqlglot's tokenizer, so strings and comments are never touched).

An install runs ``_pack_source.install_steps`` in one transaction: the schema,
the tables in their current shape (created when absent), the migrations not
yet recorded in ``pack_migrations`` (each brings a table of an older released
shape forward, and is recorded), a check that every pack table now has the
pack's shape (anything else is refused and rolled back), the macros, and the
record of the install in ``pack_info``.

A DuckLake catalog (``duckdb_databases()`` type ``ducklake``) takes no PRIMARY
KEY, UNIQUE, ``ON CONFLICT`` or ``RETURNING``. The pack keeps one text, with its
keys; for a DuckLake target the installer runs its keyless variant, derived
from that text by ``_pack_keyless`` (``pack_steps(ducklake=True)``): the tables
and migrations without keys (key columns stay NOT NULL, so the columns are the
pack's), and ``90_record_install.sql`` as an ``UPDATE`` then an ``INSERT ...
WHERE NOT EXISTS``. The migration records already use ``WHERE NOT EXISTS``. The
shape check compares a DuckLake's tables with that variant (``integrity``), and
still refuses a keyless table in a database that has keys.
``pack_script(ducklake=True)`` (``ducksets sql --ducklake``) is the same variant
as a script; it refuses to run in a database that is not a DuckLake. The
linter's DS014 checks that every file has a variant. Uniqueness of the
catalog's keys and names there is the writers' check (``catalog``).
"""

from __future__ import annotations

import enum
import re
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from ducksets._args import require_connection, require_str
from ducksets._introspect import current_database
from ducksets._pack_keyless import keyless_steps
from ducksets._pack_source import (
    HEADER,
    VERSION_LITERAL,
    InstallStep,
    default_script,
    install_steps,
    join_script,
    read_manifest,
    read_migrations,
)
from ducksets._query import fetch_one
from ducksets.errors import (
    ArgumentTypeError,
    CatalogShapeError,
    PackError,
    first_line,
)
from ducksets.sqltext import qualified_name

PACK_SCHEMA = "metadata"
"""The schema name the pack's files are written with, and the default target."""

DUCKLAKE = "ducklake"
"""``duckdb_databases().type`` of a DuckLake catalog."""

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
    (same version; objects missing or changed re-created), ``downgraded`` (``force=True``),
    ``repaired`` (``force=True`` over an unreadable recorded version) or
    ``present`` (read-only database whose pack ``verify_pack`` finds intact).
    ``migrated`` names the migrations this install applied and recorded.
    """

    database: str
    pack_schema: str
    version_before: str | None
    version_after: str
    action: str
    created: tuple[str, ...]
    migrated: tuple[str, ...] = ()

    @property
    def schema(self) -> str:
        """Deprecated name of ``pack_schema``."""
        warnings.warn(
            "InstallResult.schema is deprecated; use InstallResult.pack_schema",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.pack_schema


class _Unset(enum.Enum):
    """The deprecated ``schema=`` keyword, not given."""

    UNSET = "unset"


_UNSET = _Unset.UNSET


def _pack_schema_argument(function: str, pack_schema: object, schema: object) -> str:
    """The target schema: ``pack_schema=``, or the deprecated ``schema=`` with a warning."""
    if schema is _UNSET:
        return require_str(
            "pack_schema", pack_schema, what=f"a schema name such as {PACK_SCHEMA!r}"
        )
    warnings.warn(
        f"{function}(schema=...) is deprecated; use {function}(pack_schema=...)",
        DeprecationWarning,
        stacklevel=3,
    )
    if pack_schema != PACK_SCHEMA:
        msg = f"{function}: pass the pack's schema once, as pack_schema= (schema= is deprecated)"
        raise ArgumentTypeError(msg, parameter="schema", value=schema)
    return require_str("schema", schema, what=f"a schema name such as {PACK_SCHEMA!r}")


def check_target(
    con: object = None,
    *,
    pack_schema: object = PACK_SCHEMA,
    database: object = None,
    need_con: bool = True,
) -> None:
    """Raise a typed error naming the parameter unless the install target is well-formed."""
    if need_con:
        require_connection("con", con)
    require_str("pack_schema", pack_schema, what=f"a schema name such as {PACK_SCHEMA!r}")
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
    """The pack's files in ``MANIFEST`` order (migrations are ``pack_steps``)."""
    root = directory or pack_dir()
    return tuple(
        PackFile(name, (root / name).read_text(encoding="utf-8")) for name in read_manifest(root)
    )


def pack_steps(*, ducklake: bool = False) -> tuple[InstallStep, ...]:
    """The whole install in order: schema, tables, migrations, macros, record.

    ``ducklake``: the keyless variant for a DuckLake catalog (``_pack_keyless``).

    Raises
    ------
    PackError
        A pack file lacks its header, the migrations are misnamed or
        misnumbered, or (``ducklake``) a file has no keyless variant.
    """
    try:
        migrations = read_migrations(pack_dir())
        steps = install_steps([(f.name, f.sql) for f in pack_files()], migrations)
        return keyless_steps(steps) if ducklake else steps
    except ValueError as exc:
        raise PackError(str(exc)) from exc


def is_ducklake(con: duckdb.DuckDBPyConnection, database: str | None = None) -> bool:
    """Whether ``database`` (default: the current one) is a DuckLake catalog.

    DuckLake tables take no keys, so the pack goes there in its keyless variant.
    """
    row = fetch_one(
        con,
        "SELECT type FROM system.main.duckdb_databases() "
        "WHERE database_name = coalesce(?, current_database())",
        [database],
    )
    return row is not None and str(row[0]).lower() == DUCKLAKE


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


def render_sql(
    sql: str,
    *,
    pack_schema: str = PACK_SCHEMA,
    database: str | None = None,
    schema: str | _Unset = _UNSET,
) -> str:
    """``sql`` with every ``metadata`` name token replaced by the target qualifier."""
    pack_schema = _pack_schema_argument("render_sql", pack_schema, schema)
    target = qualified_name(database, pack_schema)
    if target == PACK_SCHEMA:
        return sql
    # sqlglot takes longer to import than most CLI verbs take to run: only here.
    from sqlglot import TokenType
    from sqlglot.dialects.duckdb import DuckDB

    pieces: list[str] = []
    position = 0
    for token in DuckDB().tokenize(sql):
        if token.token_type == TokenType.VAR and token.text.lower() == PACK_SCHEMA:
            pieces.append(sql[position : token.start])
            pieces.append(target)
            position = token.end + 1
    pieces.append(sql[position:])
    return "".join(pieces)


def pack_script(
    *,
    pack_schema: str = PACK_SCHEMA,
    database: str | None = None,
    ducklake: bool = False,
    schema: str | _Unset = _UNSET,
) -> str:
    """The whole pack as one transactional script, for ``duckdb`` CLI users.

    ``ducklake``: the keyless variant, for a DuckLake catalog attached and
    ``USE``d (or named by ``database``) in the session that runs the script.
    """
    pack_schema = _pack_schema_argument("pack_script", pack_schema, schema)
    check_target(pack_schema=pack_schema, database=database, need_con=False)
    if not isinstance(ducklake, bool):
        msg = f"ducklake must be True or False, not {ducklake!r}"
        raise ArgumentTypeError(msg, parameter="ducklake", value=ducklake)
    if pack_schema == PACK_SCHEMA and database is None and not ducklake:
        return default_script(pack_dir())
    steps = pack_steps(ducklake=ducklake)
    rendered = tuple(_rendered(step, pack_schema, database) for step in steps)
    qualifier = qualified_name(database, pack_schema)
    return join_script(
        rendered, qualifier=qualifier, schema=pack_schema, database=database, keyless=ducklake
    )


def _rendered(step: InstallStep, pack_schema: str, database: str | None) -> InstallStep:
    sql = render_sql(step.sql, pack_schema=pack_schema, database=database)
    return InstallStep(step.name, sql, step.phase, step.number)


def installed_version(
    con: duckdb.DuckDBPyConnection,
    *,
    pack_schema: str = PACK_SCHEMA,
    database: str | None = None,
    schema: str | _Unset = _UNSET,
) -> str | None:
    """The pack version recorded in the database, or ``None`` when none is installed.

    Raises
    ------
    CatalogShapeError
        ``pack_info`` lacks its ``pack`` or ``version`` column (an ALTERed table).
    """
    pack_schema = _pack_schema_argument("installed_version", pack_schema, schema)
    check_target(con, pack_schema=pack_schema, database=database)
    target_db = database or current_database(con)
    has_table = fetch_one(
        con,
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE database_name = ? AND schema_name = ? AND table_name = 'pack_info'",
        [target_db, pack_schema],
    )
    if not has_table or not has_table[0]:
        return None
    table = qualified_name(database, pack_schema, "pack_info")
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
    pack_schema: str = PACK_SCHEMA,
    database: str | None = None,
    force: bool = False,
    schema: str | _Unset = _UNSET,
) -> InstallResult:
    """Install or upgrade the pack, in one transaction; apply and record pending migrations.

    Into a DuckLake (``attach_ducklake``, or ``ATTACH 'ducklake:...'`` and ``USE``)
    the pack goes in its keyless variant (see the module docstring).

    Parameters
    ----------
    con
        An open connection.
    pack_schema
        Schema for the catalog and macros; every macro reads this schema's catalog.
    database
        An attached database to install into; default: the connection's current one.
        Macros then name it, so attach it under the same name when you use them.
    force
        Replace a newer installed pack (a downgrade).
    schema
        Deprecated name of ``pack_schema``.

    Returns
    -------
    InstallResult
        Versions before and after, the action taken, the objects created and
        the migrations applied.

    Raises
    ------
    PackVersionError
        A newer pack, or an unreadable version, is recorded and ``force`` is false.
    CatalogShapeError
        A pack table has another shape than the pack's or an older release's
        (a view, an ALTERed column); names the repair. Nothing was changed.
    ReadOnlyDatabaseError
        The target database is read-only and its pack is missing, old or not intact.
    TransactionOpenError
        The connection has a transaction open.
    InvalidArgumentError
        ``database`` is not attached, an attached database is named like
        ``pack_schema`` (DuckDB could not tell them apart), or the target is the
        DuckDB file that stores a DuckLake's catalog (the pack goes into the lake).
    PackError
        A pack statement, a migration or the COMMIT failed (disk full, ...); nothing was changed.
    """
    # The install machinery reads the pack through this module: import it here.
    from ducksets._pack_install import InstallTarget, install, read_only_result, require_database

    pack_schema = _pack_schema_argument("install_macros", pack_schema, schema)
    check_target(con, pack_schema=pack_schema, database=database)
    if not isinstance(force, bool):
        msg = f"force must be True or False, not {force!r}"
        raise ArgumentTypeError(msg, parameter="force", value=force)
    target = InstallTarget(con, database or current_database(con), pack_schema, database)
    require_database(con, target.database, pack_schema)
    if target.read_only():
        return read_only_result(target, pack_version())
    return install(target, pack_version(), force=force)
