"""The pack in a real DuckLake (DuckDB 1.5.5 + duckdb-extension-ducklake): scripts/scale-tests.

The installer derives the keyless variant for a DuckLake target (shared
decision 1); every macro must work there, the pack must survive DETACH and
ATTACH, a second install changes nothing, and an older keyless pack upgrades.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from ducksets import attach_ducklake, install_macros, installed_version, verify_pack
from ducksets._pack_keyless import keyless_sql
from ducksets.ducklake import prepare_ducklake_path
from ducksets.errors import CatalogShapeError, InvalidArgumentError
from ducksets.pack import is_ducklake, pack_script, pack_version

if TYPE_CHECKING:
    from conftest import Lake

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _catalog(con: duckdb.DuckDBPyConnection) -> None:
    """A table, a view and their catalog rows, written with plain SQL as a SQL user would."""
    con.execute("CREATE SCHEMA core")
    con.execute("CREATE TABLE core.goids (id INTEGER, urn VARCHAR)")
    con.execute("INSERT INTO core.goids SELECT i, 'urn:' || i FROM range(1, 11) AS t(i)")
    con.execute("CREATE VIEW core.even AS SELECT * FROM core.goids WHERE id % 2 = 0")
    con.execute(
        "INSERT INTO metadata.datasets VALUES "
        "('core.goids', 'goids', FALSE, NULL, NULL), ('core.even', 'even', TRUE, NULL, NULL)"
    )


def test_the_fixtures_attach_a_ducklake_and_use_it(
    any_ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    row = any_ducklake_con.execute(
        "SELECT type FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    assert row == ("ducklake",)
    assert is_ducklake(any_ducklake_con)


def test_install_macros_puts_the_keyless_pack_into_a_ducklake(
    any_ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    con = any_ducklake_con
    result = install_macros(con)
    assert (result.action, result.database, result.version_after) == (
        "installed",
        "lake",
        pack_version(),
    )
    assert "datasets" in result.created and "dataset_rows" in result.created
    assert result.migrated == ("0001_dataset_columns",)
    assert verify_pack(con) == ()
    assert installed_version(con) == pack_version()
    keys = con.execute(
        "SELECT count(*) FROM duckdb_constraints() WHERE database_name = 'lake' "
        "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')"
    ).fetchone()
    assert keys == (0,)


def test_every_macro_works_in_a_ducklake(
    any_ducklake_con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = any_ducklake_con
    install_macros(con)
    _catalog(con)
    assert con.execute(
        "SELECT count(*), min(id), max(id) FROM metadata.dataset_rows('core.goids')"
    ).fetchone() == (10, 1, 10)
    page = con.execute(
        "SELECT id FROM metadata.dataset_rows('core.even', row_limit := 2, row_offset := 1)"
    ).fetchall()
    assert page == [(4,), (6,)]
    assert con.execute(
        "SELECT metadata.dataset_exists('goids'), metadata.dataset_exists('even'), "
        "metadata.dataset_exists('nope')"
    ).fetchone() == (True, True, False)
    assert con.execute("SELECT metadata.scan_is_ordered('core.goids')").fetchone() == (True,)
    assert con.execute("SELECT * FROM metadata.catalog_drift()").fetchall() == []

    out = tmp_path / "out"
    out.mkdir()
    statement = con.execute(
        "SELECT metadata.dataset_export_sql('goids', fmt := 'parquet', output_dir := ?)",
        [str(out)],
    ).fetchone()
    assert statement is not None
    con.execute(statement[0])
    assert con.execute(
        "SELECT count(*) FROM read_parquet(?)", [str(out / "goids.parquet")]
    ).fetchone() == (10,)

    con.execute("DROP VIEW core.even")
    drift = con.execute("SELECT * FROM metadata.catalog_drift()").fetchall()
    assert len(drift) == 1 and "even" in str(drift[0])


def test_the_pack_persists_across_detach_and_attach(any_lake: Lake) -> None:
    con = any_lake.connect()
    install_macros(con)
    _catalog(con)
    con.execute("USE memory")
    con.execute(f"DETACH {any_lake.name}")
    con.close()

    again = any_lake.connect()
    try:
        assert verify_pack(again) == ()
        assert installed_version(again) == pack_version()
        assert again.execute(
            "SELECT count(*) FROM metadata.dataset_rows('core.even')"
        ).fetchone() == (5,)
        assert again.execute("SELECT metadata.dataset_exists('goids')").fetchone() == (True,)
    finally:
        again.close()


def test_a_second_install_changes_nothing(any_ducklake_con: duckdb.DuckDBPyConnection) -> None:
    con = any_ducklake_con
    install_macros(con)
    _catalog(con)
    record = con.execute("SELECT * FROM metadata.pack_info").fetchall()
    catalog = con.execute("SELECT * FROM metadata.datasets ORDER BY table_key").fetchall()

    again = install_macros(con)

    assert (again.action, again.created, again.migrated) == ("unchanged", (), ())
    assert con.execute("SELECT * FROM metadata.pack_info").fetchall() == record
    assert con.execute("SELECT * FROM metadata.datasets ORDER BY table_key").fetchall() == catalog
    assert verify_pack(con) == ()


def test_an_older_keyless_pack_upgrades_and_keeps_the_catalog(
    any_ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    con = any_ducklake_con
    # Pack 0.1.0 as DuckLake would have taken it: no dataset_columns, no pack_migrations.
    old = (FIXTURES / "pack-0.1.0.sql").read_text(encoding="utf-8")
    con.execute(keyless_sql("pack-0.1.0.sql", old, "script"))
    assert installed_version(con) == "0.1.0"
    _catalog(con)

    result = install_macros(con)

    assert (result.action, result.version_before) == ("upgraded", "0.1.0")
    assert result.migrated == ("0001_dataset_columns",)
    assert "dataset_columns" in result.created
    assert verify_pack(con) == ()
    assert con.execute("SELECT name FROM metadata.datasets ORDER BY name").fetchall() == [
        ("even",),
        ("goids",),
    ]


def test_the_ducklake_script_installs_and_runs_again(
    any_ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    con = any_ducklake_con
    script = pack_script(ducklake=True)
    con.execute(script)
    con.execute(script)
    assert verify_pack(con) == ()
    assert con.execute("SELECT version FROM metadata.pack_info").fetchall() == [(pack_version(),)]


def test_ducksets_sql_ducklake_prints_the_script_the_lake_takes(
    ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "ducksets", "sql", "--ducklake"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == pack_script(ducklake=True)
    ducklake_con.execute(printed)
    assert verify_pack(ducklake_con) == ()


def test_the_plain_script_fails_in_a_ducklake_and_changes_nothing(
    ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(duckdb.Error, match="PRIMARY KEY/UNIQUE constraints are not supported"):
        ducklake_con.execute(pack_script())
    ducklake_con.execute("ROLLBACK")
    schemas = ducklake_con.execute(
        "SELECT count(*) FROM duckdb_schemas() WHERE database_name = 'lake' "
        "AND schema_name = 'metadata'"
    ).fetchone()
    assert schemas == (0,)


def test_a_keyed_pack_table_copied_into_a_ducklake_is_checked_against_the_keyless_shape(
    ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    con = ducklake_con
    install_macros(con)
    # A DuckLake table cannot have keys; a changed column is what can differ there.
    con.execute("ALTER TABLE metadata.datasets ADD COLUMN extra INTEGER")
    problems = verify_pack(con)
    assert any("metadata.datasets has column extra" in p for p in problems)
    con.execute("ALTER TABLE metadata.datasets DROP COLUMN extra")
    con.execute("ALTER TABLE metadata.dataset_columns ALTER ordinal DROP NOT NULL")
    with pytest.raises(CatalogShapeError, match="ordinal"):
        install_macros(con)


def test_attach_ducklake_attaches_uses_and_takes_the_pack(any_lake: Lake) -> None:
    con = duckdb.connect()
    try:
        assert attach_ducklake(con, any_lake.catalog, data_path=any_lake.data_path) == "lake"
        assert is_ducklake(con)
        assert install_macros(con).action == "installed"
        con.execute("USE memory")
        con.execute("DETACH lake")
        attach_ducklake(con, "ducklake:" + any_lake.catalog, name="again", read_only=True)
        result = install_macros(con)
        assert (result.action, result.database) == ("present", "again")
        assert verify_pack(con) == ()
    finally:
        con.close()


def test_a_bad_catalog_is_one_typed_error(tmp_path: Path) -> None:
    con = duckdb.connect()
    try:
        with pytest.raises(InvalidArgumentError, match="could not attach the DuckLake"):
            attach_ducklake(con, tmp_path / "no-such-dir" / "catalog.ducklake")
    finally:
        con.close()


def test_installing_into_the_lakes_catalog_file_itself_is_refused(
    ducklake_catalog: Lake,
) -> None:
    ducklake_catalog.connect().close()  # creates the lake
    con = duckdb.connect(ducklake_catalog.catalog)
    try:
        with pytest.raises(InvalidArgumentError, match="is the catalog of a DuckLake"):
            install_macros(con)
    finally:
        con.close()


def test_a_lake_named_by_database_takes_the_pack_from_another_current_database(
    ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    con = ducklake_con
    con.execute("USE memory")
    result = install_macros(con, database="lake")
    assert (result.action, result.database) == ("installed", "lake")
    assert verify_pack(con, database="lake") == ()
    assert not is_ducklake(con)
    schemas = con.execute(
        "SELECT database_name FROM duckdb_schemas() WHERE schema_name = 'metadata'"
    ).fetchall()
    assert schemas == [("lake",)]


def test_the_ducklake_script_for_a_named_lake_and_schema(
    ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    con = ducklake_con
    con.execute("USE memory")
    con.execute(pack_script(ducklake=True, database="lake", pack_schema="cat"))
    assert verify_pack(con, database="lake", pack_schema="cat") == ()
    assert install_macros(con, database="lake", pack_schema="cat").action == "unchanged"


def test_prepare_ducklake_path_lets_duckdb_open_a_ducklake_path(tmp_path: Path) -> None:
    # A fresh extension directory: DuckDB alone cannot open the lake; the
    # duckdb-extension-ducklake wheel, loaded once, installs it there.
    config = {
        "extension_directory": str(tmp_path / "extensions"),
        "autoinstall_known_extensions": "false",
    }
    path = f"ducklake:{tmp_path / 'catalog.ducklake'}"
    with pytest.raises(duckdb.IOException, match="ducklake"):
        duckdb.connect(path, config=config)

    prepare_ducklake_path(path, config=config)

    con = duckdb.connect(path, config=config)
    try:
        assert is_ducklake(con)
        assert install_macros(con).action == "installed"
        assert verify_pack(con) == ()
    finally:
        con.close()
