"""install_macros: idempotent, atomic, versioned, for any schema or attached database."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ducksets.pack
from ducksets import (
    ArgumentTypeError,
    InvalidArgumentError,
    PackError,
    PackFile,
    PackVersionError,
    ReadOnlyDatabaseError,
    TransactionOpenError,
    install_macros,
    installed_version,
    pack_files,
    pack_script,
    pack_version,
)
from ducksets._pack_source import PHASES, InstallStep, join_script
from ducksets.integrity import verify_pack
from ducksets.pack import pack_steps, parse_version, render_sql

PACK_OBJECTS = {f.object_name for f in pack_files() if f.kind != "row"} - {None}


def snapshot(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    """Everything a pack install could change: schemas, tables, macros and pack rows."""
    return con.execute(
        """
        SELECT 'schema', database_name, schema_name, NULL FROM duckdb_schemas() WHERE NOT internal
        UNION ALL
        SELECT 'table', database_name, schema_name, table_name FROM duckdb_tables()
        UNION ALL
        SELECT 'macro', database_name, schema_name,
            function_name || ':' || coalesce(macro_definition, '')
        FROM duckdb_functions() WHERE function_type IN ('macro', 'table_macro') AND NOT internal
        ORDER BY ALL
        """
    ).fetchall()


def catalog_rows(
    con: duckdb.DuckDBPyConnection, schema: str = "metadata"
) -> list[tuple[object, ...]]:
    return con.execute(f"FROM {schema}.datasets ORDER BY table_key").fetchall()


def test_fresh_install_creates_every_pack_object(fresh_con: duckdb.DuckDBPyConnection) -> None:
    result = install_macros(fresh_con)
    assert result.action == "installed"
    assert result.version_before is None
    assert result.version_after == pack_version()
    assert set(result.created) == PACK_OBJECTS
    row = fresh_con.execute("SELECT version, duckdb_version FROM metadata.pack_info").fetchone()
    assert row == (pack_version(), "v" + duckdb.__version__)


def test_install_twice_is_idempotent(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, NULL, NULL)")
    before = snapshot(con)
    info_before = con.execute("FROM metadata.pack_info").fetchall()
    result = install_macros(con)
    assert result.action == "unchanged"
    assert result.created == ()
    assert snapshot(con) == before
    assert con.execute("FROM metadata.pack_info").fetchall() == info_before
    assert catalog_rows(con) == [("core.t", "t", False, None, None)]


def broken_pack(position: int) -> tuple[PackFile, ...]:
    files = list(pack_files())
    bad = PackFile(
        "55_injected.sql", "-- metadata.injected (macro)\nSELECT error('injected failure');"
    )
    files.insert(position, bad)
    return tuple(files)


@pytest.mark.parametrize("position", [1, 5, -1])
def test_failure_mid_install_changes_nothing_in_a_fresh_database(
    fresh_con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch, position: int
) -> None:
    before = snapshot(fresh_con)
    monkeypatch.setattr(ducksets.pack, "pack_files", lambda: broken_pack(position))
    with pytest.raises(PackError, match="55_injected.sql.*nothing was changed.*injected failure"):
        install_macros(fresh_con)
    assert snapshot(fresh_con) == before


def test_failure_mid_upgrade_keeps_the_old_pack_and_rows(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    con.execute("UPDATE metadata.pack_info SET version = '0.0.1'")
    con.execute("INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, NULL, NULL)")
    con.execute("DROP MACRO metadata.dataset_exists")
    before = snapshot(con)
    monkeypatch.setattr(ducksets.pack, "pack_files", lambda: broken_pack(8))
    with pytest.raises(PackError):
        install_macros(con)
    assert snapshot(con) == before
    assert installed_version(con) == "0.0.1"


def test_upgrade_replaces_objects_and_keeps_catalog_rows(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE metadata.pack_info SET version = '0.0.9'")
    con.execute("INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, 't.jsonl', NULL)")
    con.execute("DROP MACRO metadata.dataset_exists")
    result = install_macros(con)
    assert (result.action, result.version_before, result.version_after) == (
        "upgraded",
        "0.0.9",
        pack_version(),
    )
    assert result.created == ("dataset_exists",)
    assert catalog_rows(con) == [("core.t", "t", False, "t.jsonl", None)]
    assert con.execute("SELECT metadata.dataset_exists('t')").fetchone() == (True,)


def test_newer_installed_pack_is_refused_unless_forced(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE metadata.pack_info SET version = '99.0.0'")
    before = snapshot(con)
    with pytest.raises(PackVersionError, match=r"99\.0\.0, newer than .*force=True"):
        install_macros(con)
    assert snapshot(con) == before
    result = install_macros(con, force=True)
    assert (result.action, result.version_before) == ("downgraded", "99.0.0")
    assert installed_version(con) == pack_version()


def test_the_script_itself_refuses_a_downgrade(con: duckdb.DuckDBPyConnection) -> None:
    """CLI users run the script, not install_macros: the pack's own guard protects them."""
    con.execute("UPDATE metadata.pack_info SET version = '10.0.0'")
    with pytest.raises(duckdb.Error, match="10.0.0 is installed, newer than this pack"):
        con.execute(pack_script())
    con.execute("ROLLBACK")
    assert installed_version(con) == "10.0.0"


def test_versions_compare_numerically_not_as_text(con: duckdb.DuckDBPyConnection) -> None:
    major, minor, patch = (int(p) for p in pack_version().split("."))
    con.execute("UPDATE metadata.pack_info SET version = ?", [f"{major}.{minor}.{patch + 10}"])
    with pytest.raises(PackVersionError):
        install_macros(con)
    con.execute("UPDATE metadata.pack_info SET version = ?", [f"{major}.{minor}.{patch}"])
    assert install_macros(con).action == "unchanged"


def test_other_schema_macros_read_their_own_catalog(con: duckdb.DuckDBPyConnection) -> None:
    result = install_macros(con, pack_schema="My Catalog")
    assert result.pack_schema == "My Catalog"
    con.execute("CREATE TABLE main.t AS SELECT 1 AS x")
    con.execute("""INSERT INTO "My Catalog".datasets VALUES ('main.t', 't', FALSE, NULL, NULL)""")
    assert con.execute("""SELECT "My Catalog".dataset_exists('t')""").fetchone() == (True,)
    assert con.execute("SELECT metadata.dataset_exists('t')").fetchone() == (False,)
    sql_text = con.execute("""SELECT "My Catalog".dataset_export_sql('t')""").fetchone()
    assert sql_text == ("""COPY (SELECT * FROM "main"."t") TO './t.parquet' (FORMAT PARQUET)""",)
    assert con.execute("""FROM "My Catalog".catalog_drift()""").fetchall() == []


def test_attached_database_install(fresh_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    fresh_con.execute(f"ATTACH '{tmp_path / 'side.db'}' AS side")
    fresh_con.execute("CREATE SCHEMA side.core; CREATE TABLE side.core.t AS SELECT 42 AS x")
    result = install_macros(fresh_con, database="side")
    assert (result.database, result.action) == ("side", "installed")
    fresh_con.execute(
        "INSERT INTO side.metadata.datasets VALUES ('side.core.t', 't', FALSE, NULL, NULL)"
    )
    assert fresh_con.execute("SELECT side.metadata.dataset_exists('t')").fetchone() == (True,)
    assert fresh_con.execute("FROM side.metadata.dataset_rows('side.core.t')").fetchall() == [(42,)]
    assert fresh_con.execute("FROM side.metadata.catalog_drift()").fetchall() == []
    # Nothing leaked into the default database.
    assert installed_version(fresh_con) is None
    assert installed_version(fresh_con, database="side") == pack_version()


def test_unknown_attached_database_is_a_clear_error(fresh_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(InvalidArgumentError, match="no attached database 'nope'.*ATTACH") as caught:
        install_macros(fresh_con, database="nope")
    assert caught.value.parameter == "database"


def test_read_only_database_with_the_pack_is_used_as_is(db_path: Path) -> None:
    with duckdb.connect(str(db_path)) as con:
        install_macros(con)
    before = db_path.read_bytes()
    with duckdb.connect(str(db_path), read_only=True) as con:
        result = install_macros(con)
        assert (result.action, result.created) == ("present", ())
        assert con.execute("SELECT metadata.dataset_exists('x')").fetchone() == (False,)
    assert db_path.read_bytes() == before


def test_read_only_database_without_the_pack_says_how_to_proceed(db_path: Path) -> None:
    duckdb.connect(str(db_path)).close()
    before = db_path.read_bytes()
    with (
        duckdb.connect(str(db_path), read_only=True) as con,
        pytest.raises(ReadOnlyDatabaseError, match="read-only and has no pack.*ducksets install"),
    ):
        install_macros(con)
    assert db_path.read_bytes() == before


def test_install_inside_an_open_transaction_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("BEGIN TRANSACTION")
    with pytest.raises(TransactionOpenError, match="commit or roll back yours first"):
        install_macros(con)
    con.execute("ROLLBACK")


def test_file_made_with_old_storage_settings(db_path: Path) -> None:
    """Most user files have storage older than v1.4.0, where typed macros cannot be stored."""
    with duckdb.connect(str(db_path), config={"storage_compatibility_version": "v1.0.0"}) as con:
        con.execute("CREATE SCHEMA core; CREATE TABLE core.t AS SELECT range AS id FROM range(3)")
    with duckdb.connect(str(db_path)) as con:
        storage = con.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'test'"
        ).fetchone()
        assert storage is not None and storage[0] < "v1.4.0"
        install_macros(con)
        con.execute("INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, NULL, NULL)")
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute("FROM metadata.dataset_rows('core.t', row_limit := 2)").fetchall()
        assert rows == [(0,), (1,)]


def test_render_sql_rewrites_names_but_not_strings() -> None:
    sql_text = "SELECT 'metadata.x' AS \"metadata\" FROM metadata.datasets -- metadata.y"
    assert render_sql(sql_text, pack_schema="cat") == (
        "SELECT 'metadata.x' AS \"metadata\" FROM cat.datasets -- metadata.y"
    )
    assert render_sql(sql_text, pack_schema="a b", database="db") == (
        'SELECT \'metadata.x\' AS "metadata" FROM db."a b".datasets -- metadata.y'
    )


def test_default_script_is_the_install_steps_in_order() -> None:
    script = pack_script()
    assert script.startswith("BEGIN TRANSACTION;") and script.rstrip().endswith("COMMIT;")
    steps = pack_steps()
    positions = [script.index(step.sql.strip()) for step in steps]
    assert positions == sorted(positions)
    phases = [step.phase for step in steps]
    assert phases == sorted(phases, key=PHASES.index)
    assert {f.name for f in pack_files()} | {s.name for s in steps if s.phase == "migration"} == {
        s.name for s in steps
    }


def test_one_version_everywhere() -> None:
    """The pack file, the installed package and the top CHANGELOG release agree."""
    from importlib.metadata import version

    import ducksets

    changelog = (Path(__file__).resolve().parents[1] / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = [
        line.split("]")[0][4:] for line in changelog.splitlines() if line.startswith("## [")
    ]
    assert releases[0] == "Unreleased"
    assert releases[1] == pack_version() == ducksets.__version__ == version("ducksets")


# The duckdb CLI (1.5) runs the script: `ducksets sql | duckdb c.db` and `.read`.
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
CLASHES = {
    "other_columns": "CREATE TABLE metadata.datasets (a INTEGER, b TEXT)",
    "altered_type": "ALTER TABLE metadata.datasets ALTER is_view TYPE VARCHAR",
    "a_view": "ALTER TABLE metadata.datasets RENAME TO old_datasets; "
    "CREATE VIEW metadata.datasets AS FROM metadata.old_datasets",
}


def cli(path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DUCKDB_CLI), "-no-init", *args, str(path)],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def clashing_database(tmp_path: Path, clash: str) -> Path:
    """A file (written by the CLI's DuckDB) whose metadata.datasets clashes with the pack."""
    path = tmp_path / "c.db"
    setup = "CREATE SCHEMA metadata;" if clash == "other_columns" else pack_script()
    assert cli(path, stdin=setup).returncode == 0
    assert cli(path, stdin=CLASHES[clash] + ";").returncode == 0
    return path


def cli_objects(path: Path) -> str:
    listing = (
        "SELECT function_name FROM duckdb_functions() WHERE schema_name = 'metadata' "
        "UNION ALL SELECT table_name FROM duckdb_tables() ORDER BY 1;"
        "SELECT * FROM metadata.pack_info;"
    )
    return cli(path, "-csv", "-readonly", stdin=listing).stdout


@pytest.mark.parametrize("clash", sorted(CLASHES))
@pytest.mark.parametrize("how", ["pipe", "read", "interactive read then COMMIT"])
def test_cli_script_into_a_clashing_database_changes_nothing(
    tmp_path: Path, clash: str, how: str
) -> None:
    """Issue 9 item 5: the piped script committed pack_info and 11 of 20 macros."""
    path = clashing_database(tmp_path, clash)
    script = tmp_path / "pack.sql"
    script.write_text(pack_script(), encoding="utf-8")
    before, objects = path.read_bytes(), cli_objects(path)
    if how == "pipe":
        result = cli(path, stdin=pack_script())
    elif how == "read":
        result = cli(path, "-c", f".read {script}")
    else:  # a user at the prompt: .read, then goes on and commits whatever is open
        result = cli(path, "-interactive", stdin=f".read {script}\nCOMMIT;\nSELECT 42;\n")
    assert result.returncode == 1
    first_error = next(line for line in result.stderr.splitlines() if "Error" in line)
    assert "ducksets install failed, nothing was changed: metadata.datasets" in first_error
    assert "move it away" in first_error
    assert cli_objects(path) == objects
    assert path.read_bytes() == before


def test_cli_script_installs_and_reinstalls_a_fresh_file(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    for _ in range(2):
        result = cli(path, stdin=pack_script())
        assert (result.returncode, result.stderr) == (0, "")
    with duckdb.connect(str(path), read_only=True) as con:
        from ducksets.integrity import verify_pack

        assert verify_pack(con) == ()


def test_script_guard_knows_the_tables_duckdb_makes() -> None:
    """The script's guard reads table shapes from the pack's text; DuckDB must agree."""
    from ducksets._pack_reader import expected_tables
    from ducksets._pack_source import table_columns

    parsed = {f.object_name: table_columns(f.sql) for f in pack_files() if f.kind == "table"}
    made = {name: tuple(c[:2] for c in columns) for name, columns in expected_tables().items()}
    assert parsed == made


def test_script_guard_ends_an_install_whose_macro_failed_to_bind(tmp_path: Path) -> None:
    """A binder error leaves the CLI's transaction open; the final guard aborts it."""
    path = tmp_path / "g.db"
    assert cli(path, stdin=pack_script()).returncode == 0
    before, objects = path.read_bytes(), cli_objects(path)
    broken = (
        "-- metadata.injected (macro)\n"
        "CREATE OR REPLACE MACRO metadata.injected() AS "
        "(SELECT max(no_such_column) FROM metadata.datasets);\n"
    )
    steps = list(pack_steps())
    steps.insert(8, InstallStep("55_injected.sql", broken, "macro"))
    result = cli(path, stdin=join_script(steps))
    assert result.returncode == 1
    assert "pack macros not created in metadata (an error above says why): injected" in (
        result.stderr
    )
    assert cli_objects(path) == objects
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("call", "error", "parameter"),
    [
        (lambda: install_macros(None), ArgumentTypeError, "con"),  # type: ignore[arg-type]
        (
            lambda: install_macros(duckdb.connect(), pack_schema=None),
            ArgumentTypeError,
            "pack_schema",
        ),  # type: ignore[arg-type]
        (
            lambda: install_macros(duckdb.connect(), pack_schema=""),
            InvalidArgumentError,
            "pack_schema",
        ),
        (lambda: install_macros(duckdb.connect(), database=5), ArgumentTypeError, "database"),  # type: ignore[arg-type]
        (lambda: install_macros(duckdb.connect(), force="yes"), ArgumentTypeError, "force"),  # type: ignore[arg-type]
        (lambda: installed_version(None), ArgumentTypeError, "con"),  # type: ignore[arg-type]
        (lambda: pack_script(pack_schema=5), ArgumentTypeError, "pack_schema"),  # type: ignore[arg-type]
        (lambda: pack_script(pack_schema=" "), InvalidArgumentError, "pack_schema"),
    ],
)
def test_bad_arguments_are_one_typed_error_naming_the_parameter(
    call: Callable[[], object], error: type[Exception], parameter: str
) -> None:
    with pytest.raises(error) as caught:
        call()
    assert getattr(caught.value, "parameter", None) == parameter


@pytest.mark.parametrize(
    "call",
    [
        lambda: install_macros(duckdb.connect(), schema="cat"),
        lambda: installed_version(duckdb.connect(), schema="cat"),
        lambda: pack_script(schema="cat"),
        lambda: render_sql("SELECT 1 FROM metadata.datasets", schema="cat"),
    ],
    ids=["install_macros", "installed_version", "pack_script", "render_sql"],
)
def test_the_old_schema_keyword_works_for_one_release_with_a_warning(
    call: Callable[[], object],
) -> None:
    with pytest.warns(DeprecationWarning, match=r"schema=.*deprecated; use .*pack_schema="):
        result = call()
    if isinstance(result, str):
        assert "cat.datasets" in result


def test_the_old_schema_keyword_installs_where_pack_schema_does() -> None:
    con = duckdb.connect()
    with pytest.warns(DeprecationWarning, match="pack_schema"):
        result = install_macros(con, schema="cat")
    with pytest.warns(DeprecationWarning, match="InstallResult.pack_schema"):
        assert result.schema == result.pack_schema == "cat"
    assert installed_version(con, pack_schema="cat") == pack_version()
    with pytest.warns(DeprecationWarning), pytest.raises(ArgumentTypeError) as caught:
        install_macros(con, pack_schema="cat", schema="other")
    assert caught.value.parameter == "schema"
    with pytest.warns(DeprecationWarning), pytest.raises(InvalidArgumentError) as bad:
        install_macros(con, schema="")
    assert bad.value.parameter == "schema"


@pytest.mark.parametrize("file_name", ["metadata.duckdb", "METADATA.db"])
def test_a_database_named_like_the_pack_schema_is_one_clear_error(
    tmp_path: Path, file_name: str
) -> None:
    # DuckDB cannot tell catalog `metadata` from schema `metadata` in `metadata.datasets`.
    con = duckdb.connect(str(tmp_path / file_name))
    with pytest.raises(InvalidArgumentError, match="--pack-schema") as caught:
        install_macros(con)
    assert caught.value.parameter == "pack_schema"
    assert "named like the pack schema" in str(caught.value)
    schemas = "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'metadata'"
    assert con.execute(schemas).fetchone() == (0,)
    assert install_macros(con, pack_schema="ducksets").version_after == pack_version()


def test_an_attached_database_named_like_the_pack_schema_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute(f"ATTACH '{tmp_path / 'x.db'}' AS meta")
    with pytest.raises(InvalidArgumentError, match="'meta'"):
        install_macros(con, pack_schema="Meta")


_VERSION_TEXT = st.one_of(
    st.tuples(*[st.integers(0, 2_000_000_000)] * 3).map(lambda p: ".".join(map(str, p))),
    st.tuples(*[st.integers(0, 12)] * 3).map(lambda p: ".".join(map(str, p))),
    st.text(alphabet="0123456789.-rc \n٣", max_size=14),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(recorded=_VERSION_TEXT)
def test_python_and_the_sql_guard_agree_on_every_recorded_version(
    con: duckdb.DuckDBPyConnection, recorded: str
) -> None:
    # The version order is written twice on purpose: the SQL guard for piped
    # scripts, Python for typed errors before anything runs. They must agree.
    from ducksets._pack_install import _newer

    con.execute("UPDATE metadata.pack_info SET version = ?", [recorded])
    try:
        guard = con.execute("SELECT metadata.check_no_downgrade()").fetchone()
    except duckdb.Error as exc:
        guard = ("unreadable" if "unreadable version" in str(exc) else "newer",)
    if parse_version(recorded) is None:
        assert guard == ("unreadable",)
    elif _newer(recorded, pack_version()):
        assert guard == ("newer",)
    else:
        assert guard == (True,)


def _macro_oids(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rows = con.execute(
        "SELECT function_name, function_oid FROM duckdb_functions() "
        "WHERE schema_name = 'metadata' AND function_type IN ('macro', 'table_macro')"
    ).fetchall()
    return {name: oid for name, oid in rows}


def test_a_reinstall_remakes_only_the_macros_that_are_missing_or_changed(
    fresh_con: duckdb.DuckDBPyConnection,
) -> None:
    con = fresh_con
    install_macros(con)
    install_macros(con)  # a process's first re-install re-creates every macro
    con.execute("CREATE OR REPLACE MACRO metadata.fold_name(name_text) AS (name_text)")
    con.execute("DROP MACRO metadata.dataset_exists")
    before = _macro_oids(con)

    result = install_macros(con)

    after = _macro_oids(con)
    assert (result.action, result.created) == ("unchanged", ("dataset_exists",))
    assert verify_pack(con) == ()
    remade = {name for name in after if before.get(name) != after[name]}
    assert remade == {"fold_name", "dataset_exists"}
