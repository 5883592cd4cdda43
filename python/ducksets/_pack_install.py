"""Installing the pack into a database: one transaction, migrations, shape checks.

``pack.install_macros`` checks its arguments and calls ``install``; the steps
come from ``pack.pack_steps`` (``_pack_source.install_steps``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import duckdb

from ducksets._names import fold_name
from ducksets._pack_source import HEADER, MIGRATIONS_TABLE, InstallStep, record_migration
from ducksets._query import fetch_one
from ducksets._transaction import transaction
from ducksets.errors import (
    CatalogShapeError,
    InvalidArgumentError,
    PackError,
    PackVersionError,
    ReadOnlyDatabaseError,
    first_line,
)
from ducksets.pack import (
    DUCKLAKE,
    InstallResult,
    installed_version,
    pack_steps,
    parse_version,
    render_sql,
)
from ducksets.sqltext import qualified_name, quote_literal


@dataclass(frozen=True)
class InstallTarget:
    """Where an install goes: the connection, the database's name and the pack's schema."""

    con: duckdb.DuckDBPyConnection
    database: str
    pack_schema: str
    database_arg: str | None  # as the caller named it (None: the current database)

    def table(self, name: str) -> str:
        """A pack table's name as SQL, qualified as the caller named the target."""
        return qualified_name(self.database_arg, self.pack_schema, name)

    def schema_exists(self) -> bool:
        """Whether the pack's schema exists in the target database."""
        row = fetch_one(
            self.con,
            "SELECT count(*) FROM duckdb_schemas() WHERE database_name = ? AND schema_name = ?",
            [self.database, self.pack_schema],
        )
        return bool(row and row[0])

    def read_only(self) -> bool:
        """Whether the target database is attached read-only."""
        return self._attached[0]

    @property
    def ducklake(self) -> bool:
        """Whether the target database is a DuckLake catalog (the pack goes there keyless)."""
        return self._attached[1]

    @cached_property
    def _attached(self) -> tuple[bool, bool]:
        row = fetch_one(
            self.con,
            "SELECT readonly, type FROM system.main.duckdb_databases() WHERE database_name = ?",
            [self.database],
        )
        if row is None:
            return False, False
        return bool(row[0]), str(row[1]).lower() == DUCKLAKE


def install(target: InstallTarget, version: str, *, force: bool) -> InstallResult:
    """Install or upgrade the pack in a writable target (``install_macros`` checked the rest)."""
    con, pack_schema = target.con, target.pack_schema
    steps = pack_steps(ducklake=target.ducklake)
    objects = {
        name for step in steps if step.phase in ("table", "macro") and (name := _object(step))
    }
    # Without the schema nothing of the pack exists: a fresh install skips the
    # checks of what is there, and the duckdb_functions() scan (about 10 ms).
    fresh = not target.schema_exists()
    if fresh and not target.ducklake:
        _refuse_a_lake_catalog(target)
    differs = False if fresh else _shape_before(target)
    before = (
        None
        if fresh
        else installed_version(con, pack_schema=pack_schema, database=target.database_arg)
    )
    forget = _check_version_before(target, before, version, force=force)
    intact: set[str] = set()
    if fresh:
        objects_before: set[str] = set()
    elif before == version and not differs:
        # A re-install of this version over tables in shape: the macros that
        # are the pack's already need not be made again (most of its time).
        objects_before, intact = _macros_intact(target, objects)
    else:
        objects_before = _objects_present(con, target.database, pack_schema, objects)
    installer = _Installer(target, version, check_shape=differs)
    migrated = installer.run([s for s in steps if _object(s) not in intact], forget_record=forget)
    # Every step ran without error, so every pack object exists now.
    created = objects - objects_before
    unreadable = before is not None and parse_version(before) is None
    action = "repaired" if unreadable else _action(before, version)
    return InstallResult(
        target.database, pack_schema, before, version, action, tuple(sorted(created)), migrated
    )


def _refuse_a_lake_catalog(target: InstallTarget) -> None:
    """Refuse the DuckDB file that stores a DuckLake's catalog: the pack goes into the lake.

    Opened directly (``ducksets install catalog.ducklake``), it is a plain DuckDB
    database of ``ducklake_*`` tables; a pack there is invisible in the lake.
    """
    row = fetch_one(
        target.con,
        "SELECT ducksets_d.path FROM system.main.duckdb_tables() AS ducksets_t "
        "JOIN system.main.duckdb_databases() AS ducksets_d USING (database_name) "
        "WHERE database_name = ? AND schema_name = 'main' AND table_name = 'ducklake_metadata'",
        [target.database],
    )
    if row is None:
        return
    path = row[0] or "<catalog>"
    version = duckdb.__version__
    msg = (
        f"database {target.database!r} is the catalog of a DuckLake (it holds ducklake_metadata), "
        f"not the lake; install into the lake: ducksets.attach_ducklake(con, {path!r}) then "
        f"install_macros(con) (SQL: ATTACH 'ducklake:{path}' AS lake; USE lake; then the script "
        f"of ducksets sql --ducklake), with the ducklake extension loaded (pip install "
        f"duckdb-extension-ducklake=={version} duckdb-extensions=={version}, or INSTALL ducklake)"
    )
    raise InvalidArgumentError(msg, parameter="database", value=target.database)


def _object(step: InstallStep) -> str | None:
    header = HEADER.match(step.sql.split("\n", 1)[0])
    return header.group("name") if header else None


def read_only_result(target: InstallTarget, version: str) -> InstallResult:
    """``present`` when the read-only database's pack is intact, else a ReadOnlyDatabaseError."""
    from ducksets.integrity import repair_command, verify_pack

    problems = verify_pack(target.con, pack_schema=target.pack_schema, database=target.database_arg)
    if not problems:
        return InstallResult(target.database, target.pack_schema, version, version, "present", ())
    absent = problems[0].startswith("no ducksets pack")
    found = "has no pack in" if absent else "the pack is not intact in"
    msg = (
        f"database {target.database!r} is read-only and {found} schema {target.pack_schema!r}: "
        f"{problems[0]}; open it writable once to install pack {version} "
        f"({repair_command(target.con, target.database_arg)}), then read-only connections can "
        "use it"
    )
    raise ReadOnlyDatabaseError(msg)


def _shape_before(target: InstallTarget) -> bool:
    """Refuse what no migration can bring forward, before changing anything.

    That is a view named like a pack table, or a ``pack_info`` or
    ``pack_migrations`` of another shape: an install reads both before any
    migration runs (the version, the migrations applied), so no migration may
    change them. Returns whether another pack table differs from the pack's
    shape: an older release's, which the migrations bring forward, or a foreign
    one, which the check after them refuses.
    """
    from ducksets.integrity import table_problems

    problems = table_problems(
        target.con, pack_schema=target.pack_schema, database=target.database_arg, missing_ok=True
    )
    records = {target.table("pack_info"), target.table(MIGRATIONS_TABLE)}
    for problem in problems:
        if problem.view or problem.obj in records:
            raise CatalogShapeError(problem.text, table=problem.obj)
    return bool(problems)


def _check_version_before(
    target: InstallTarget, before: str | None, version: str, *, force: bool
) -> bool:
    """Refuse a downgrade or an unreadable record unless forced; whether to forget the record."""
    from ducksets.integrity import repair_command

    unreadable = before is not None and parse_version(before) is None
    if unreadable and not force:
        msg = (
            f"{target.table('pack_info')} holds an unreadable version {before!r}; "
            f"{repair_command(target.con, target.database_arg, force=True)} repairs it"
        )
        raise PackVersionError(msg)
    downgrade = not unreadable and before is not None and _newer(before, version)
    if downgrade and not force:
        repair = repair_command(target.con, target.database_arg, force=True)
        msg = (
            f"{target.database}.{target.pack_schema} has pack {before}, newer than {version} "
            f"from this ducksets; upgrade ducksets, or downgrade with force=True ({repair})"
        )
        raise PackVersionError(msg)
    # The pack's own guard refuses these; forgetting the record is what force means.
    return downgrade or unreadable


class _Installer:
    """Runs the install steps in one transaction, naming the step that failed."""

    def __init__(self, target: InstallTarget, version: str, *, check_shape: bool) -> None:
        self.target = target
        self.version = version
        # Tables of the pack's shape, or absent and created so by the table
        # files, stay so through the migrations: only a differing one is checked.
        self.check_shape = check_shape
        self.step: str | None = None

    def run(self, steps: Sequence[InstallStep], *, forget_record: bool) -> tuple[str, ...]:
        """Run every step (migrations only when not recorded); the migrations applied."""
        phase = {p: [s for s in steps if s.phase == p] for p in ("migration", "macro", "record")}
        try:
            with transaction(self.target.con, "install_macros"):
                self._execute([s for s in steps if s.phase in ("schema", "table")])
                migrated = self._migrate(phase["migration"])
                if self.check_shape:
                    self._require_shape()
                self._execute(phase["macro"])
                if forget_record:
                    self.step = "(force: forget the recorded version)"
                    self._sql(
                        f"DELETE FROM {self.target.table('pack_info')} WHERE pack = "
                        f"{quote_literal('ducksets')}"
                    )
                self._execute(phase["record"])
                self.step = None  # what fails now is the COMMIT
        except duckdb.Error as exc:
            what = f"installing {self.step}" if self.step else "committing the install"
            msg = f"{what} failed, nothing was changed: {first_line(exc)}"
            raise PackError(msg) from exc
        return migrated

    def _sql(self, sql: str) -> None:
        self.target.con.execute(sql)

    def _execute(self, steps: Sequence[InstallStep]) -> None:
        for step in steps:
            self.step = step.name
            self._sql(self._render(step.sql))

    def _render(self, sql: str) -> str:
        return render_sql(
            sql, pack_schema=self.target.pack_schema, database=self.target.database_arg
        )

    def _migrate(self, migrations: Sequence[InstallStep]) -> tuple[str, ...]:
        """Apply and record the migrations ``pack_migrations`` does not record, in order."""
        table = self.target.table(MIGRATIONS_TABLE)
        self.step = f"reading {table}"
        rows = self.target.con.execute(f"SELECT id FROM {table}").fetchall()
        applied = {row[0] for row in rows}
        qualifier = qualified_name(self.target.database_arg, self.target.pack_schema)
        done = []
        for step in migrations:
            if step.number in applied:
                continue
            self._execute([step])
            self._sql(record_migration(step, qualifier=qualifier, version=self.version))
            done.append(step.migration_name)
        return tuple(done)

    def _require_shape(self) -> None:
        """Raise CatalogShapeError (rolling the install back) unless every pack table fits."""
        from ducksets.integrity import table_problems

        target = self.target
        problems = table_problems(
            target.con, pack_schema=target.pack_schema, database=target.database_arg
        )
        if problems:
            raise CatalogShapeError(problems[0].text, table=problems[0].obj)


def _action(before: str | None, after: str) -> str:
    if before is None:
        return "installed"
    if before == after:
        return "unchanged"
    return "downgraded" if _newer(before, after) else "upgraded"


def _newer(version: str, than: str) -> bool:
    """Whether readable ``version`` is newer than ``than`` (unreadable ones are never newer)."""
    return (parse_version(version) or (-1,)) > (parse_version(than) or (-1,))


def _macros_intact(target: InstallTarget, objects: set[str]) -> tuple[set[str], set[str]]:
    """The pack objects present, and the pack macros whose every overload is the pack's.

    Compared as ``integrity`` compares them, with the pack as a scratch install
    made it. Making that costs about an install, once per process: the first
    re-install of a process re-creates every macro instead (a CLI run does
    only one), a later one makes it and compares.
    """
    from ducksets._pack_reader import expected_shape, known_shape, loosely, read_macros

    key = (target.pack_schema, target.database_arg)
    shape = known_shape(*key)
    if shape is None and key not in _REINSTALLED:
        _REINSTALLED.add(key)
        return _objects_present(target.con, target.database, target.pack_schema, objects), set()
    shape = shape or expected_shape(*key)
    macros, _ = read_macros(target.con, target.database, target.pack_schema)
    tables = {t for t in objects if t not in shape.macros}
    present = set(macros) & objects | _tables_present(target, tables)
    intact = {
        name
        for name, overloads in shape.macros.items()
        if (found := macros.get(name)) is not None
        and (found == overloads or loosely(found) == loosely(overloads))
    }
    return present, intact


_REINSTALLED: set[tuple[str, str | None]] = set()  # targets re-installed once in this process


def _tables_present(target: InstallTarget, tables: set[str]) -> set[str]:
    rows = target.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?",
        [target.database, target.pack_schema],
    ).fetchall()
    return {row[0] for row in rows} & tables


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


def require_database(con: duckdb.DuckDBPyConnection, database: str, pack_schema: str) -> None:
    """Refuse a target DuckDB could not name: a database not attached, or one named like the schema.

    In ``metadata.datasets`` DuckDB cannot tell database ``metadata`` from schema
    ``metadata`` ("Ambiguous reference"), so no pack statement or macro would bind.
    """
    rows = con.execute("SELECT database_name FROM duckdb_databases()").fetchall()
    attached = sorted(str(row[0]) for row in rows)
    if database not in attached:
        msg = (
            f"no attached database {database!r}; attached: {', '.join(attached)}. "
            f"ATTACH it first (ATTACH 'file.db' AS {qualified_name(database)})"
        )
        raise InvalidArgumentError(msg, parameter="database", value=database)
    clash = next((a for a in attached if fold_name(a) == fold_name(pack_schema)), None)
    if clash is not None:
        msg = (
            f"the database {clash!r} is named like the pack schema {pack_schema!r}, and DuckDB "
            f"cannot tell them apart in {pack_schema}.datasets; install with another "
            f"pack_schema (ducksets install --pack-schema NAME), or open the file under "
            f"another name (ATTACH 'file.db' AS other)"
        )
        raise InvalidArgumentError(msg, parameter="pack_schema", value=pack_schema)
