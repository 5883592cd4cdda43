"""verify_pack and require_pack: the pack in a database is complete, untampered, well-shaped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ducksets import (
    CatalogShapeError,
    PackError,
    PackIntegrityError,
    PackVersionError,
    ReadOnlyDatabaseError,
    install_macros,
    load_dataset_registry,
    pack_files,
    pack_script,
    pack_version,
)
from ducksets.integrity import require_pack, verify_pack

BIN = Path(sys.executable).parent

TAMPERING = {
    "dropped": (
        "DROP MACRO TABLE metadata.dataset_rows",  # DuckDB < 1.4: DROP MACRO keeps table macros
        "metadata.dataset_rows (table macro) is missing",
    ),
    "export_sql_replaced": (
        "CREATE OR REPLACE MACRO metadata.dataset_export_sql(ds_name, fmt := 'parquet', "
        "output_dir := '.') AS ('COPY (SELECT 1) TO ''/elsewhere/x'' (FORMAT CSV)')",
        "metadata.dataset_export_sql (macro) has another definition",
    ),
    "rows_replaced": (
        "CREATE OR REPLACE MACRO metadata.dataset_rows(table_key, row_limit := 10, "
        "row_offset := 0, row_order := 'scan') AS TABLE SELECT 42 AS x",
        "metadata.dataset_rows (table macro) has another definition",
    ),
    "drift_made_scalar": (
        "DROP MACRO TABLE metadata.catalog_drift; CREATE MACRO metadata.catalog_drift() AS 1",
        "metadata.catalog_drift (table macro) is missing",
    ),
    "parameters_changed": (
        "CREATE OR REPLACE MACRO metadata.quote_ident(x, y) AS x",
        "metadata.quote_ident (macro) has parameters (x, y)",
    ),
}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, check=False)


def test_an_installed_pack_is_intact(con: duckdb.DuckDBPyConnection) -> None:
    assert verify_pack(con) == ()
    require_pack(con)


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampered_macros_are_named_and_install_repairs_them(
    con: duckdb.DuckDBPyConnection, case: str
) -> None:
    statement, expected = TAMPERING[case]
    con.execute(statement)
    problems = verify_pack(con)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected)
    assert "install_macros(con)" in problems[0]
    with pytest.raises(PackIntegrityError, match="not intact") as caught:
        require_pack(con)
    assert caught.value.problems == problems
    install_macros(con)
    assert verify_pack(con) == ()


def test_no_pack_is_one_problem(fresh_con: duckdb.DuckDBPyConnection) -> None:
    assert verify_pack(fresh_con) == (
        "no ducksets pack in metadata; install_macros(con) installs it",
    )


def test_problems_name_the_database_file_to_install(db_path: Path) -> None:
    with duckdb.connect(str(db_path)) as con:
        install_macros(con)
        con.execute("DROP MACRO metadata.dataset_exists")
        [problem] = verify_pack(con)
    assert problem.endswith(f"ducksets install {db_path} re-creates it")


def test_other_schema_and_attached_database(fresh_con: duckdb.DuckDBPyConnection) -> None:
    install_macros(fresh_con, pack_schema="My Catalog")
    assert verify_pack(fresh_con, pack_schema="My Catalog") == ()
    fresh_con.execute("ATTACH ':memory:' AS side")
    install_macros(fresh_con, database="side")
    assert verify_pack(fresh_con, database="side") == ()
    fresh_con.execute("DROP MACRO side.metadata.dataset_exists")
    [problem] = verify_pack(fresh_con, database="side")
    assert problem.startswith("side.metadata.dataset_exists (macro) is missing")
    assert verify_pack(fresh_con, pack_schema="My Catalog") == ()


ALTERED = {
    "type": (
        "ALTER TABLE metadata.datasets ALTER is_view TYPE VARCHAR",
        "metadata.datasets has column is_view VARCHAR, the pack needs BOOLEAN",
    ),
    "dropped": (
        "ALTER TABLE metadata.datasets DROP parquet_filename",
        "metadata.datasets lacks column parquet_filename VARCHAR",
    ),
    "renamed": (
        "ALTER TABLE metadata.datasets RENAME name TO dataset_name",
        "metadata.datasets lacks column name VARCHAR NOT NULL",
    ),
    "added": (
        "ALTER TABLE metadata.dataset_columns ADD note VARCHAR",
        "metadata.dataset_columns has column note VARCHAR, which the pack does not make",
    ),
    "view": (
        "ALTER TABLE metadata.datasets RENAME TO datasets_old; "
        "CREATE VIEW metadata.datasets AS FROM metadata.datasets_old",
        "metadata.datasets is a view, the pack needs a table",
    ),
}


@pytest.mark.parametrize("case", sorted(ALTERED))
def test_an_altered_catalog_is_refused_by_name(con: duckdb.DuckDBPyConnection, case: str) -> None:
    con.execute("CREATE TABLE main.t AS SELECT 1 AS x")
    con.execute("INSERT INTO metadata.datasets VALUES ('main.t', 't', FALSE, NULL, NULL)")
    statement, expected = ALTERED[case]
    con.execute(statement)
    problems = verify_pack(con)
    assert problems and problems[0].startswith(expected), problems
    before = con.execute("SELECT * FROM duckdb_columns() ORDER BY ALL").fetchall()
    with pytest.raises(CatalogShapeError, match=expected) as caught:
        install_macros(con)
    assert caught.value.table in {"metadata.datasets", "metadata.dataset_columns"}
    assert "move the table away" in str(caught.value) or "move it away" in str(caught.value)
    assert con.execute("SELECT * FROM duckdb_columns() ORDER BY ALL").fetchall() == before
    with pytest.raises(CatalogShapeError, match=expected):
        load_dataset_registry(con)


def test_a_varchar_is_view_is_not_read_as_true(con: duckdb.DuckDBPyConnection) -> None:
    """Issue 10 item 6: after ALTER ... TYPE VARCHAR, 'false' read as a Python truth value."""
    con.execute("CREATE TABLE main.t AS SELECT 1 AS x")
    con.execute("INSERT INTO metadata.datasets VALUES ('main.t', 't', FALSE, NULL, NULL)")
    con.execute("ALTER TABLE metadata.datasets ALTER is_view TYPE VARCHAR")
    with pytest.raises(CatalogShapeError, match="is_view VARCHAR.*ALTER TABLE metadata.datasets"):
        load_dataset_registry(con)
    con.execute("ALTER TABLE metadata.datasets ALTER is_view TYPE BOOLEAN")
    assert load_dataset_registry(con).dataset_for_name("t").is_view is False


def test_read_only_present_only_when_the_pack_is_intact(db_path: Path) -> None:
    with duckdb.connect(str(db_path)) as con:
        install_macros(con)
        con.execute("DROP MACRO metadata.dataset_export_sql")
    before = db_path.read_bytes()
    with (
        duckdb.connect(str(db_path), read_only=True) as con,
        pytest.raises(ReadOnlyDatabaseError, match=r"dataset_export_sql \(macro\) is missing"),
    ):
        install_macros(con)
    assert db_path.read_bytes() == before
    with duckdb.connect(str(db_path)) as con:
        assert install_macros(con).created == ("dataset_export_sql",)
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert install_macros(con).action == "present"


@pytest.mark.parametrize("garbage", ["garbage", "0.4.0-rc1", "", "1.2"])
def test_an_unreadable_version_is_refused_and_force_repairs_it(
    con: duckdb.DuckDBPyConnection, garbage: str
) -> None:
    con.execute("UPDATE metadata.pack_info SET version = ?", [garbage])
    [problem] = verify_pack(con)
    assert problem == (
        f"metadata.pack_info holds an unreadable version {garbage!r}; "
        "install_macros(con, force=True) repairs it"
    )
    with pytest.raises(PackVersionError, match="unreadable version.*force=True"):
        install_macros(con)
    result = install_macros(con, force=True)
    assert (result.action, result.version_before) == ("repaired", garbage)
    assert verify_pack(con) == ()


def test_the_script_refuses_an_unreadable_version_with_its_own_error(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute("UPDATE metadata.pack_info SET version = 'garbage'")
    with pytest.raises(duckdb.Error, match="unreadable version 'garbage'.*--force"):
        con.execute(pack_script())
    con.execute("ROLLBACK")


def test_an_older_version_is_reported_as_such(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE metadata.pack_info SET version = '0.0.1'")
    assert verify_pack(con) == (
        f"pack 0.0.1 in metadata is older than this ducksets' {pack_version()}; "
        "install_macros(con) upgrades it",
    )


def test_commit_failure_is_a_typed_error_with_the_cause(tmp_path: Path) -> None:
    """Issue 9 item 10: a failed COMMIT (here a file-size limit on the WAL) was an IndexError."""
    path = tmp_path / "full.db"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    before = path.read_bytes()
    script = f"""
import resource, signal, duckdb
from ducksets import PackError, install_macros
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead of killing us
con = duckdb.connect({str(path)!r})
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
try:
    install_macros(con)
except PackError as exc:
    print("PackError:", exc)
print("after:", con.execute("SELECT 42").fetchall())
"""
    result = run(sys.executable, "-c", script)
    assert result.returncode == 0, result.stderr
    assert "PackError: committing the install failed, nothing was changed" in result.stdout
    assert "File too large" in result.stdout
    assert "after: [(42,)]" in result.stdout
    assert path.read_bytes() == before
    with duckdb.connect(str(path)) as con:
        assert verify_pack(con) == (
            f"no ducksets pack in metadata; ducksets install {path} installs it",
        )


def test_cli_check_and_version_report_pack_objects(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with duckdb.connect(str(path)) as con:
        install_macros(con)
        con.execute("DROP MACRO TABLE metadata.dataset_rows")
    check = run(str(BIN / "ducksets"), "check", str(path))
    assert check.returncode == 1
    assert check.stdout.startswith(
        f"metadata.dataset_rows:1:1: error DS102 metadata.dataset_rows (table macro) is missing; "
        f"ducksets install {path} re-creates it"
    )
    version = run(str(BIN / "ducksets"), "version", str(path))
    assert version.returncode == 1
    assert f"{path}: metadata.dataset_rows (table macro) is missing" in version.stdout
    assert run(str(BIN / "ducksets"), "install", str(path)).returncode == 0
    assert run(str(BIN / "ducksets"), "check", str(path)).returncode == 0
    assert run(str(BIN / "ducksets"), "version", str(path)).stdout.splitlines()[1] == (
        f"{path}: pack {pack_version()}"
    )


def test_cli_garbage_version(tmp_path: Path) -> None:
    """Issue 10 item 7: a traceback from install even with --force; version said 'not installed'."""
    path = tmp_path / "g.db"
    with duckdb.connect(str(path)) as con:
        install_macros(con)
        con.execute("UPDATE metadata.pack_info SET version = 'garbage'")
    version = run(str(BIN / "ducksets"), "version", str(path))
    assert version.returncode == 1
    assert version.stdout.splitlines()[1] == (
        f"{path}: metadata.pack_info holds an unreadable version 'garbage'; "
        f"ducksets install --force {path} repairs it"
    )
    refused = run(str(BIN / "ducksets"), "install", str(path))
    assert refused.returncode == 1
    assert refused.stderr == (
        f"ducksets install: metadata.pack_info holds an unreadable version 'garbage'; "
        f"ducksets install --force {path} repairs it\n"
    )
    forced = run(str(BIN / "ducksets"), "install", "--force", str(path))
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.startswith(f"repaired: pack garbage -> {pack_version()}")
    assert run(str(BIN / "ducksets"), "version", str(path)).returncode == 0


def test_require_pack_is_an_error_of_the_hierarchy(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP MACRO metadata.dataset_exists")
    with pytest.raises(PackError):
        require_pack(con)


def test_a_pack_installed_by_another_duckdb_version_verifies(tmp_path: Path) -> None:
    """DuckDB 1.5 (the CLI) reprints macros differently from 2.0; only tampering is reported."""
    path = tmp_path / "cli.db"
    cli = [str(BIN / "duckdb"), "-no-init", str(path)]
    assert run(*cli, stdin=pack_script()).returncode == 0
    with duckdb.connect(str(path), read_only=True) as con:
        assert verify_pack(con) == ()
    tamper = (
        "CREATE OR REPLACE MACRO metadata.dataset_export_sql(ds_name, fmt := 'parquet', "
        "output_dir := '.') AS ('COPY (SELECT 1) TO ''/elsewhere/x'' (FORMAT CSV)');"
    )
    assert run(*cli, stdin=tamper).returncode == 0
    with duckdb.connect(str(path), read_only=True) as con:
        [problem] = verify_pack(con)
    assert problem.startswith("metadata.dataset_export_sql (macro) has another definition")


def test_a_pack_stored_with_old_storage_settings_verifies(db_path: Path) -> None:
    """A v1.0.0-storage file reprints stored macros differently (VARCHAR for TEXT, parentheses)."""
    config = {"storage_compatibility_version": "v1.0.0"}
    with duckdb.connect(str(db_path), config=config) as con:
        install_macros(con)
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert verify_pack(con) == ()
    with duckdb.connect(str(db_path), config=config) as con:
        con.execute("CREATE OR REPLACE MACRO metadata.quote_literal(literal_text) AS literal_text")
    with duckdb.connect(str(db_path), read_only=True) as con:
        [problem] = verify_pack(con)
    assert problem.startswith("metadata.quote_literal (macro) has another definition")


def test_installed_version_of_an_altered_pack_info_is_a_shape_error(
    con: duckdb.DuckDBPyConnection,
) -> None:
    from ducksets import installed_version

    con.execute("ALTER TABLE metadata.pack_info RENAME version TO v")
    with pytest.raises(CatalogShapeError, match="metadata.pack_info lacks its pack or version"):
        installed_version(con)
    with pytest.raises(CatalogShapeError, match="metadata.pack_info lacks column version"):
        install_macros(con)


def test_macros_shadowing_builtins_are_reported_with_their_drop(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Review E: DuckDB resolves an unqualified name to a user macro before the builtin."""
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n", encoding="utf-8")
    con.execute("ATTACH ':memory:' AS other")
    con.execute("CREATE MACRO main.regexp_full_match(a, b) AS true")
    con.execute("CREATE TEMP MACRO lower(a) AS 'x'")
    con.execute(f"CREATE MACRO main.query_table(x) AS TABLE SELECT * FROM read_csv('{secret}')")
    con.execute("CREATE MACRO other.main.trim(a) AS a")
    con.execute("CREATE MACRO main.not_a_builtin(a) AS a")
    problems = verify_pack(con)
    joined = "\n".join(problems)
    assert "DROP MACRO memory.main.regexp_full_match" in joined, problems
    assert "DROP MACRO temp.main.lower" in joined
    assert "DROP MACRO TABLE memory.main.query_table" in joined
    assert "DROP MACRO other.main.trim" in joined
    assert "not_a_builtin" not in joined
    assert len(problems) == 4
    for statement in ("memory.main.regexp_full_match", "temp.main.lower", "other.main.trim"):
        con.execute(f"DROP MACRO {statement}")
    con.execute("DROP MACRO TABLE memory.main.query_table")
    assert verify_pack(con) == ()


def test_a_reordered_definition_is_another_definition(con: duckdb.DuckDBPyConnection) -> None:
    """Review F: swapping LIMIT row_limit / OFFSET row_offset kept every token."""
    [definition] = [f for f in pack_files() if f.object_name == "dataset_rows"]
    sql = definition.sql
    swapped = sql.replace(
        "LIMIT row_limit\n        OFFSET row_offset", "LIMIT row_offset\n        OFFSET row_limit"
    )
    assert swapped != sql
    con.execute(swapped)
    [problem] = verify_pack(con)
    assert problem.startswith("metadata.dataset_rows (table macro) has another definition")


WEAKENED = {
    "no_keys": "table_key TEXT NOT NULL, name TEXT NOT NULL",
    "nocase": "table_key TEXT COLLATE NOCASE PRIMARY KEY, name TEXT COLLATE NOCASE NOT NULL UNIQUE",
}


@pytest.mark.parametrize("case", sorted(WEAKENED))
def test_a_datasets_table_without_keys_or_with_a_collation_is_refused(
    fresh_con: duckdb.DuckDBPyConnection, case: str
) -> None:
    """Review G/H: right columns, but no PRIMARY KEY/UNIQUE, or COLLATE NOCASE."""
    fresh_con.execute("CREATE SCHEMA metadata")
    fresh_con.execute(
        f"CREATE TABLE metadata.datasets ({WEAKENED[case]}, is_view BOOLEAN NOT NULL, "
        "jsonl_filename TEXT, parquet_filename TEXT)"
    )
    with pytest.raises(CatalogShapeError, match="metadata.datasets") as caught:
        install_macros(fresh_con)
    assert "move the table away" in str(caught.value)
    assert caught.value.table == "metadata.datasets"
    fresh_con.execute("ALTER TABLE metadata.datasets RENAME TO kept")
    install_macros(fresh_con)
    fresh_con.execute("DROP TABLE metadata.datasets")
    fresh_con.execute("ALTER TABLE metadata.kept RENAME TO datasets")
    problems = verify_pack(fresh_con)
    assert [p for p in problems if p.startswith("metadata.datasets ")], problems


def test_a_migration_missing_from_the_record_is_a_problem_install_repairs(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute("DELETE FROM metadata.pack_migrations WHERE id = 1")
    assert verify_pack(con) == (
        "metadata.pack_migrations does not record migration 0001_dataset_columns; "
        "install_macros(con) applies and records it",
    )
    assert install_macros(con).migrated == ("0001_dataset_columns",)
    assert verify_pack(con) == ()


def test_pack_table_shapes_are_read_without_touching_the_callers_connection(db_path: Path) -> None:
    # The pack tables' shapes come from temp tables made through a cursor of the
    # caller's connection (its own temp catalog), also on a read-only database;
    # the caller's temp objects and open transaction are left as they were.
    from ducksets._pack_reader import clear_shape_caches, table_shapes

    with duckdb.connect(str(db_path)) as con:
        install_macros(con)
    with duckdb.connect(str(db_path), read_only=True) as con:
        con.execute("CREATE TEMP TABLE ducksets_expected_datasets (mine INT)")
        con.execute("BEGIN TRANSACTION")
        clear_shape_caches()
        try:
            assert verify_pack(con) == ()
            shapes = table_shapes(con)
        finally:
            clear_shape_caches()
        assert con.execute("FROM ducksets_expected_datasets").fetchall() == []
        temp = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'temp'"
        ).fetchall()
        assert temp == [("ducksets_expected_datasets",)]
        con.execute("COMMIT")
    assert [c[0] for c in shapes.columns["pack_info"]] == [
        "pack",
        "version",
        "installed_at",
        "duckdb_version",
    ]
    assert shapes.bodies["datasets"].startswith("(table_key VARCHAR PRIMARY KEY,")
    closed = duckdb.connect()
    closed.close()
    clear_shape_caches()
    try:
        assert table_shapes(closed) == shapes  # a closed connection: a private database
    finally:
        clear_shape_caches()
