"""Reading the SQL pack's files and joining them into one script.

An install runs in one sequence, computed here for the installer and the
script alike (``install_steps``): the schema, the tables (``CREATE TABLE IF
NOT EXISTS`` in their current shape), the migrations
(``migrations/NNNN_slug.sql``, which bring a table of an older released shape
forward), the macros, and the record of the install. A table new in a release
needs no migration: its own file creates it. Migrations are for tables that
already exist in an older shape.

Standard library only: the wheel's build hook loads this module by path to
write ``ducksets.sql`` into the wheel, before any dependency is installed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAME = "MANIFEST"
MIGRATIONS_DIR = "migrations"
MIGRATION_NAME = re.compile(r"^(?P<number>[0-9]{4})_(?P<slug>[a-z0-9_]+)\.sql$")
MIGRATION_HEADER = re.compile(r"^-- migration (?P<number>[0-9]{4}): \S")
MIGRATIONS_TABLE = "pack_migrations"

HEADER = re.compile(r"^-- metadata(?:\.(?P<name>\w+))? \((?P<kind>[a-z ]+)\)$")
VERSION_LITERAL = re.compile(r"AS \('(?P<version>[0-9]+\.[0-9]+\.[0-9]+)'\)")
_TABLE_BODY = re.compile(r"CREATE TABLE IF NOT EXISTS [^(]+\((?P<body>.*?)\n\);", re.DOTALL)
_CONSTRAINT = ("PRIMARY KEY", "UNIQUE", "CHECK", "FOREIGN KEY", "--")
# The spellings the pack's files use, as duckdb_columns() reports them.
_TYPE_NAMES = {"TEXT": "VARCHAR", "STRING": "VARCHAR", "INT": "INTEGER", "BOOL": "BOOLEAN"}
_FUNCTION_TYPES = {"macro": "macro", "table macro": "table_macro"}

PHASES = ("schema", "table", "migration", "macro", "record")
"""The install sequence: each step runs in its phase, phases in this order."""
_PHASE_OF_KIND = {
    "schema": "schema",
    "table": "table",
    "macro": "macro",
    "table macro": "macro",
    "row": "record",
}


@dataclass(frozen=True)
class InstallStep:
    """One step of an install: a pack file or a migration, in its phase.

    ``name`` is the file's name under the pack directory (``20_datasets.sql``,
    ``migrations/0001_dataset_columns.sql``); ``number`` is a migration's.
    """

    name: str
    sql: str
    phase: str
    number: int | None = None

    @property
    def migration_name(self) -> str:
        """A migration's name as ``pack_migrations`` records it (``0001_dataset_columns``)."""
        return Path(self.name).stem


def read_manifest(pack_dir: Path) -> tuple[str, ...]:
    """The pack's file names, in install order, as ``MANIFEST`` lists them."""
    lines = (pack_dir / MANIFEST_NAME).read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def migration_files(pack_dir: Path) -> tuple[Path, ...]:
    """The pack's migration files (``migrations/NNNN_slug.sql``), in number order.

    Names that do not match ``NNNN_slug.sql`` are returned too, sorted by name,
    so that the linter can report them; the installer refuses them.
    """
    directory = pack_dir / MIGRATIONS_DIR
    if not directory.is_dir():
        return ()
    return tuple(sorted(p for p in directory.iterdir() if p.suffix == ".sql"))


def read_migrations(pack_dir: Path) -> tuple[InstallStep, ...]:
    """The pack's migrations as install steps, in number order.

    Raises
    ------
    ValueError
        A file is not named ``NNNN_slug.sql``, the numbers are not contiguous
        from 0001, or a file does not start with ``-- migration NNNN: ...``.
    """
    steps = []
    for expected, path in enumerate(migration_files(pack_dir), start=1):
        name = f"{MIGRATIONS_DIR}/{path.name}"
        match = MIGRATION_NAME.match(path.name)
        if match is None or int(match.group("number")) != expected:
            msg = (
                f"{name}: migrations are named NNNN_slug.sql, numbered from 0001 without gaps; "
                f"expected {expected:04d}_<slug>.sql"
            )
            raise ValueError(msg)
        sql = path.read_text(encoding="utf-8")
        header = MIGRATION_HEADER.match(sql)
        if header is None or header.group("number") != match.group("number"):
            msg = f"{name}: start the file with '-- migration {expected:04d}: <one-line summary>'"
            raise ValueError(msg)
        steps.append(InstallStep(name, sql, "migration", expected))
    return tuple(steps)


def file_phase(name: str, sql: str) -> str:
    """The phase of a pack file, from its header's kind (``-- metadata.x (table)``).

    Raises
    ------
    ValueError
        The first line is not a pack header.
    """
    header = HEADER.match(sql.split("\n", 1)[0])
    phase = _PHASE_OF_KIND.get(header.group("kind")) if header else None
    if phase is None:
        msg = f"{name}: first line is not a pack header like '-- metadata.<object> (<kind>)'"
        raise ValueError(msg)
    return phase


def install_steps(
    files: Sequence[tuple[str, str]], migrations: Sequence[InstallStep]
) -> tuple[InstallStep, ...]:
    """Every step of an install in order: schema, tables, migrations, macros, record.

    ``files`` are ``(name, sql)`` in ``MANIFEST`` order, which is kept within a phase.
    """
    steps = [InstallStep(name, sql, file_phase(name, sql)) for name, sql in files]
    steps.extend(migrations)
    return tuple(sorted(steps, key=lambda step: PHASES.index(step.phase)))


def pack_steps(pack_dir: Path) -> tuple[InstallStep, ...]:
    """The install sequence of the pack in ``pack_dir``."""
    files = [(n, (pack_dir / n).read_text(encoding="utf-8")) for n in read_manifest(pack_dir)]
    return install_steps(files, read_migrations(pack_dir))


def steps_version(steps: Sequence[InstallStep]) -> str | None:
    """The version the steps' ``pack_version`` macro reports (``AS ('1.2.3')``)."""
    for step in steps:
        header = HEADER.match(step.sql.split("\n", 1)[0])
        found = VERSION_LITERAL.search(step.sql)
        if header and header.group("name") == "pack_version" and found:
            return found.group("version")
    return None


def record_migration(step: InstallStep, *, qualifier: str, version: str) -> str:
    """The statement recording an applied migration, once (a no-op when it is recorded).

    ``WHERE NOT EXISTS`` rather than ``ON CONFLICT``: it needs no key, so it
    works where tables cannot have one (DuckLake).
    """
    table = f"{qualifier}.{MIGRATIONS_TABLE}"
    return (
        f"INSERT INTO {table} (id, name, applied_at, pack_version)\n"
        f"SELECT {step.number}, {_literal(step.migration_name)}, now()::TIMESTAMP, "
        f"{_literal(version)}\n"
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE id = {step.number});\n"
    )


def table_columns(sql_text: str) -> tuple[tuple[str, str], ...]:
    """``(column, DuckDB type)`` of the ``CREATE TABLE`` in a pack file, in order."""
    match = _TABLE_BODY.search(sql_text)
    if match is None:
        return ()
    columns = []
    for line in match.group("body").splitlines():
        text = line.strip().rstrip(",")
        if not text or text.upper().startswith(_CONSTRAINT):
            continue
        name, type_name = text.split()[:2]
        columns.append((name, _TYPE_NAMES.get(type_name.upper(), type_name.upper())))
    return tuple(columns)


def table_definition(sql_text: str) -> str | None:
    """The column list of a pack file's ``CREATE TABLE IF NOT EXISTS``, inside its parentheses."""
    match = _TABLE_BODY.search(sql_text)
    return None if match is None else match.group("body")


def join_script(
    steps: Sequence[InstallStep],
    *,
    qualifier: str = "metadata",
    schema: str = "metadata",
    database: str | None = None,
    keyless: bool = False,
) -> str:
    """One script of the install steps, all or nothing, for the ``duckdb`` CLI.

    ``qualifier`` is the SQL the steps name the pack's schema with
    (``db."My Schema"``); ``schema`` and ``database`` are the plain names.
    ``keyless``: the steps are the DuckLake variant (``_pack_keyless``), and
    the shape checks read DuckLake's CREATE text (``table_sql_text``).

    Every migration runs every time (each is idempotent) and is recorded once;
    ``_Guard`` says how the script stays all or nothing.
    """
    version = steps_version(steps) or "0.0.0"
    pieces: dict[str, list[str]] = {phase: [] for phase in PHASES}
    objects: list[tuple[str, str]] = []
    tables: list[tuple[str, str]] = []
    bodies: list[tuple[str, str]] = []
    migrations: list[int] = []
    for step in steps:
        header = HEADER.match(step.sql.split("\n", 1)[0])
        name, kind = (header.group("name"), header.group("kind")) if header else (None, "")
        text = step.sql.rstrip("\n") + "\n"
        if name and kind in _FUNCTION_TYPES:
            objects.append((name, _FUNCTION_TYPES[kind]))
            drop = "DROP MACRO TABLE" if kind == "table macro" else "DROP MACRO"
            text = f"{drop} IF EXISTS {qualifier}.{name};\n" + text
        if name and kind == "table":
            tables.append((name, ", ".join(f"{c} {t}" for c, t in table_columns(step.sql))))
            bodies.append((name, table_definition(step.sql) or ""))
        if step.number is not None:
            migrations.append(step.number)
            text += record_migration(step, qualifier=qualifier, version=version)
        pieces[step.phase].append(text)
    guard = _Guard(qualifier, schema, database, keyless=keyless)
    return (
        "BEGIN TRANSACTION;\n\n"
        + guard.expected(bodies)
        + guard.before(tables)
        + "\n"
        + "\n".join(pieces["schema"] + pieces["table"] + pieces["migration"])
        + "\n"
        + guard.tables(tables)
        + "\n"
        + "\n".join(pieces["macro"] + pieces["record"])
        + "\n"
        + guard.complete(tables, objects, migrations, version)
        + "\nCOMMIT;\n"
    )


_EXPECTED = "ducksets_expected_"
_EXPECTED_PREFIX_CUT = f"substr(table_name, {len(_EXPECTED) + 1})"


DUCKLAKE_NO_DEFAULT = " DEFAULT(NULL)"
"""What DuckLake prints in ``duckdb_tables().sql`` for a column without a default."""


def table_sql_text(sql: str, *, ducklake: bool) -> str:
    """A table's ``duckdb_tables().sql`` as plain DuckDB prints it.

    DuckLake prints ``x INTEGER DEFAULT(NULL) NOT NULL`` for ``x INTEGER NOT NULL``
    (measured on 1.5.5); that is no default at all, so it is dropped there.
    """
    return sql.replace(DUCKLAKE_NO_DEFAULT, "") if ducklake else sql


def _body(name: str, *, keyless: bool = False) -> str:
    """SELECT of a table's name and its CREATE statement from the column list on."""
    sql = f"replace(sql, '{DUCKLAKE_NO_DEFAULT}', '')" if keyless else "sql"
    return (
        f"SELECT {name} AS name, substr({sql}, strpos({sql}, {name} || '(') + length({name})) "
        "AS body"
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _values(rows: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"({_literal(a)}, {_literal(b)})" for a, b in rows)


class _Guard:
    """Statements that abort the install's transaction (``error()``) when a check fails.

    In the CLI a failing statement does not always end the transaction: a
    binder or catalog error (a macro body that does not fit an existing table)
    leaves it open, and the final ``COMMIT`` would keep what worked. Only
    execution errors, such as ``error()``, abort it. So the script refuses a
    view named like a pack table before changing anything, checks the shape of
    every pack table after the migrations (an older released shape has been
    brought forward by then; any other shape is refused), drops each macro
    before creating it, and at the end checks that every pack object, migration
    record and the version row are in place. A failed check aborts the
    transaction: the ``COMMIT`` then changes nothing, piped or through ``.read``
    (which stops at the first error, leaving an aborted transaction behind).

    Each reads only DuckDB's own table functions and literals, so it cannot
    fail to bind; each is a ``SET VARIABLE`` so that it prints nothing.
    """

    def __init__(
        self, qualifier: str, schema: str, database: str | None, *, keyless: bool = False
    ) -> None:
        self.show = qualifier.replace("'", "''")
        self.keyless = keyless
        db = "current_database()" if database is None else _literal(database)
        self.database = db
        self.where = f"database_name = {db} AND schema_name = {_literal(schema)}"

    def _fail_unless_empty(self, problems: str) -> str:
        return (
            "SET VARIABLE ducksets_install_check = (\n"
            "    SELECT CASE WHEN count(*) = 0 THEN NULL ELSE error('ducksets install failed, "
            "nothing was changed: ' || string_agg(problem, '; ' ORDER BY rank, problem)) END\n"
            f"    FROM ({problems}) AS ducksets_p\n);\n"
        )

    def _table_problems(self, tables: Sequence[tuple[str, str]], *, missing_ok: bool) -> str:
        absent = "" if missing_ok else " OR ducksets_a.cols IS NULL"
        return (
            f"SELECT 1 AS rank, '{self.show}.' || ducksets_t.name || CASE\n"
            "        WHEN ducksets_v.view_name IS NOT NULL THEN ' is a view'\n"
            "        WHEN ducksets_a.cols IS NULL THEN ' is missing'\n"
            "        WHEN ducksets_a.cols <> ducksets_t.cols\n"
            "            THEN ' has columns (' || ducksets_a.cols || ')'\n"
            "        ELSE ' has other keys, constraints or collations ('\n"
            "            || ducksets_s.body || ')' END\n"
            "        || ', the pack needs a table with (' || ducksets_t.cols || '); move it away "
            f"(ALTER TABLE or ALTER VIEW {self.show}.' || ducksets_t.name || ' RENAME TO ...) "
            "or drop it, then run the install again' AS problem\n"
            f"    FROM (VALUES {_values(tables)}) AS ducksets_t(name, cols)\n"
            "    LEFT JOIN (\n"
            "        SELECT table_name, string_agg(column_name || ' ' || data_type, ', '\n"
            "            ORDER BY column_index) AS cols\n"
            f"        FROM duckdb_columns() WHERE {self.where}\n"
            "        GROUP BY table_name\n"
            "    ) AS ducksets_a ON ducksets_a.table_name = ducksets_t.name\n"
            "    LEFT JOIN (\n"
            f"        SELECT view_name FROM duckdb_views() WHERE {self.where}\n"
            "    ) AS ducksets_v ON ducksets_v.view_name = ducksets_t.name\n"
            "    LEFT JOIN (\n"
            f"        {_body('table_name', keyless=self.keyless)} FROM duckdb_tables() "
            f"WHERE {self.where}\n"
            "    ) AS ducksets_s ON ducksets_s.name = ducksets_t.name\n"
            "    LEFT JOIN (\n"
            f"        {_body(_EXPECTED_PREFIX_CUT)} FROM duckdb_tables()\n"
            f"        WHERE database_name = 'temp' AND table_name LIKE '{_EXPECTED}%'\n"
            "    ) AS ducksets_x ON ducksets_x.name = ducksets_t.name\n"
            "    WHERE ducksets_v.view_name IS NOT NULL\n"
            "        OR (ducksets_a.cols IS NOT NULL AND ducksets_a.cols <> ducksets_t.cols)\n"
            "        OR ducksets_s.body <> ducksets_x.body" + absent
        )

    def expected(self, bodies: Sequence[tuple[str, str]]) -> str:
        """Temp copies of the pack tables: DuckDB's own text of their CREATE statements."""
        return (
            "-- The pack tables' keys and collations as this DuckDB prints them\n"
            "-- (duckdb_tables().sql), to compare existing pack tables with;\n"
            "-- dropped before the COMMIT.\n"
            + "".join(
                f"CREATE OR REPLACE TEMP TABLE {_EXPECTED}{name} ({body}\n);\n"
                for name, body in bodies
            )
        )

    def before(self, tables: Sequence[tuple[str, str]]) -> str:
        """Fail on what no migration can bring forward, before anything changes.

        That is a view named like a pack table, or a ``pack_info`` or
        ``pack_migrations`` of another shape (the install writes both before
        the shape check; no migration changes them).
        """
        views = (
            f"SELECT 1 AS rank, '{self.show}.' || view_name || ' is a view, the pack needs a "
            f"table; move it away (ALTER VIEW {self.show}.' || view_name || ' RENAME TO ...) "
            "or drop it, then run the install again' AS problem\n"
            f"    FROM duckdb_views() WHERE {self.where}\n"
            f"        AND view_name IN ({', '.join(_literal(name) for name, _ in tables)})"
        )
        records = [t for t in tables if t[0] in ("pack_info", MIGRATIONS_TABLE)]
        problems = views + "\n    UNION ALL\n    " + self._table_problems(records, missing_ok=True)
        if self.keyless:
            # The keyless variant in a database with keys would be refused by
            # every later check of the pack's shape there.
            problems += (
                "\n    UNION ALL\n    SELECT 0 AS rank, 'this is the DuckLake script (ducksets "
                "sql --ducklake) and database ' || database_name || ' is not a DuckLake; "
                "ATTACH ''ducklake:...'' AS lake and USE lake first, or install with ducksets "
                "sql (without --ducklake)' AS problem\n"
                f"    FROM duckdb_databases() WHERE database_name = {self.database} "
                "AND type <> 'ducklake'"
            )
        return (
            "-- All or nothing: refuse what no migration brings forward before changing anything.\n"
            + self._fail_unless_empty(problems)
        )

    def tables(self, tables: Sequence[tuple[str, str]]) -> str:
        """Fail unless every pack table, migrated, has the pack's columns, keys and collations."""
        return (
            "-- All or nothing: after the migrations every pack table has the pack's shape;\n"
            "-- a table of any other shape is refused, and nothing is changed.\n"
            + self._fail_unless_empty(self._table_problems(tables, missing_ok=False))
        )

    def complete(
        self,
        tables: Sequence[tuple[str, str]],
        objects: Sequence[tuple[str, str]],
        migrations: Sequence[int],
        version: str,
    ) -> str:
        """Fail unless every pack table, macro, migration record and the version row exist."""
        missing = (
            f"SELECT 2 AS rank, 'pack macros not created in {self.show} (an error above says "
            "why): ' || string_agg(ducksets_e.name, ', ' ORDER BY ducksets_e.name) AS problem\n"
            f"    FROM (VALUES {_values(objects)}) AS ducksets_e(name, kind)\n"
            "    WHERE NOT EXISTS (SELECT 1 FROM duckdb_functions() AS ducksets_f\n"
            f"        WHERE ducksets_f.{self.where.replace(' AND ', ' AND ducksets_f.')}\n"
            "        AND ducksets_f.function_name = ducksets_e.name\n"
            "        AND ducksets_f.function_type = ducksets_e.kind)\n"
            "    HAVING count(*) > 0"
        )
        problems = (
            self._table_problems(tables, missing_ok=False) + "\n    UNION ALL\n    " + missing
        )
        recorded = (
            "SELECT CASE WHEN count(*) = 1 THEN NULL ELSE error('ducksets install failed, "
            f"nothing was changed: {self.show}.pack_info does not record pack {version} "
            f"(an error above says why)') END FROM {self.show}.pack_info "
            f"WHERE pack = 'ducksets' AND version = '{version}'"
        )
        # Binds only once the check above has found the pack tables in shape.
        checks = [recorded]
        if migrations:
            numbers = ", ".join(str(n) for n in migrations)
            checks.append(
                f"SELECT CASE WHEN count(*) = {len(migrations)} THEN NULL ELSE error('ducksets "
                f"install failed, nothing was changed: {self.show}.{MIGRATIONS_TABLE} does not "
                f"record every migration (an error above says why)') END "
                f"FROM {self.show}.{MIGRATIONS_TABLE} WHERE id IN ({numbers})"
            )
        return (
            "-- All or nothing: a statement above that failed to bind left the transaction\n"
            "-- open; error() aborts it, so the COMMIT below changes nothing.\n"
            + self._fail_unless_empty(problems)
            + "".join(f"SET VARIABLE ducksets_install_check = ({check});\n" for check in checks)
            + "RESET VARIABLE ducksets_install_check;\n"
            + "".join(f"DROP TABLE temp.main.{_EXPECTED}{name};\n" for name, _ in tables)
        )


def default_script(pack_dir: Path) -> str:
    """The whole pack for the default schema (``metadata``) as one script."""
    return join_script(pack_steps(pack_dir))
