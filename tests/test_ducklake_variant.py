"""The pack's DuckLake variant, on DuckDB without the ducklake extension: its derivation,
its SQL, the CLI and the checks that still refuse it outside a DuckLake.

tests/scale/test_ducklake_pack.py installs it into real DuckLakes (scripts/scale-tests).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from ducksets import (
    ArgumentTypeError,
    CatalogShapeError,
    InvalidArgumentError,
    MissingExtensionError,
    attach_ducklake,
    install_macros,
    pack_script,
    pack_version,
    verify_pack,
)
from ducksets._pack_keyless import keyless_sql
from ducksets.cli import main as cli_main
from ducksets.ducklake import prepare_ducklake_path
from ducksets.pack import pack_steps

# DuckDB without the ducklake extension, its derivation and its SQL).


def _table_shape(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE schema_name = 'metadata' AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()


def test_the_ducklake_variant_has_the_pack_tables_columns_and_no_keys() -> None:
    keyed, keyless = duckdb.connect(), duckdb.connect()
    for con, ducklake in ((keyed, False), (keyless, True)):
        for step in pack_steps(ducklake=ducklake):
            if step.phase in ("schema", "table"):
                con.execute(step.sql)
    tables = [s.name for s in pack_steps() if s.phase == "table"]
    assert len(tables) >= 4
    for table in ("pack_info", "pack_migrations", "datasets", "dataset_columns"):
        assert _table_shape(keyless, table) == _table_shape(keyed, table)
    keys = (
        "SELECT count(*) FROM duckdb_constraints() "
        "WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')"
    )
    assert keyless.execute(keys).fetchone() == (0,)
    assert keyed.execute(keys).fetchone() != (0,)
    for step in pack_steps(ducklake=True):
        code = "\n".join(line.split("--")[0] for line in step.sql.splitlines())
        for word in ("PRIMARY KEY", "UNIQUE", "ON CONFLICT", "RETURNING"):
            assert word not in code.upper(), (step.name, word)


def _keyless_install(con: duckdb.DuckDBPyConnection) -> None:
    """Every step of the DuckLake variant, as the installer runs them (no DuckLake here)."""
    for step in pack_steps(ducklake=True):
        con.execute(step.sql)


def test_the_keyless_install_record_inserts_once_updates_an_older_one_and_refuses_a_newer() -> None:
    con = duckdb.connect()
    _keyless_install(con)
    first = con.execute("SELECT * FROM metadata.pack_info").fetchall()
    assert [row[:2] for row in first] == [("ducksets", pack_version())]
    _keyless_install(con)
    assert con.execute("SELECT * FROM metadata.pack_info").fetchall() == first

    con.execute("UPDATE metadata.pack_info SET version = '0.1.0'")
    _keyless_install(con)
    assert con.execute("SELECT pack, version FROM metadata.pack_info").fetchall() == [
        ("ducksets", pack_version())
    ]

    con.execute("UPDATE metadata.pack_info SET version = '99.0.0'")
    with pytest.raises(duckdb.Error, match=r"pack 99\.0\.0 is installed, newer than this pack"):
        _keyless_install(con)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    id INTEGER PRIMARY KEY,\n    name TEXT", "    id INTEGER NOT NULL,\n    name TEXT"),
        ("    id INTEGER NOT NULL PRIMARY KEY", "    id INTEGER NOT NULL"),
        ("    name TEXT NOT NULL UNIQUE,\n    b INT", "    name TEXT NOT NULL,\n    b INT"),
        (
            "    a INT,\n    b INT NOT NULL,\n    c INT,\n    PRIMARY KEY (a, b),\n    UNIQUE (c)",
            "    a INT NOT NULL,\n    b INT NOT NULL,\n    c INT",
        ),
        (
            "    id INT, -- unique per run, PRIMARY KEY\n    x INT",
            "    id INT, -- unique per run, PRIMARY KEY\n    x INT",
        ),
    ],
)
def test_keyless_sql_strips_keys_and_keeps_key_columns_not_null(body: str, expected: str) -> None:
    sql = f"CREATE TABLE IF NOT EXISTS metadata.t (\n{body}\n);\n"
    assert (
        keyless_sql("t.sql", sql, "table")
        == f"CREATE TABLE IF NOT EXISTS metadata.t (\n{expected}\n);\n"
    )


@pytest.mark.parametrize(
    ("sql", "phase", "problem"),
    [
        ("CREATE TABLE IF NOT EXISTS metadata.t (\n    a INT CHECK (a > 0)\n);", "table", "CHECK"),
        (
            "CREATE TABLE IF NOT EXISTS metadata.t (\n    a TEXT COLLATE nocase\n);",
            "table",
            "COLLATE",
        ),
        ("INSERT INTO metadata.t VALUES (1) RETURNING a;", "record", "RETURNING"),
        (
            "INSERT INTO metadata.t VALUES (1) ON CONFLICT DO NOTHING;",
            "record",
            "install record must",
        ),
        ("CREATE TABLE metadata.t (a INT PRIMARY KEY);", "table", "keys or ON CONFLICT outside"),
    ],
)
def test_keyless_sql_refuses_what_duckdb_lake_lacks(sql: str, phase: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        keyless_sql("t.sql", sql, phase)


def test_the_ducklake_script_refuses_a_database_that_is_not_a_ducklake(
    fresh_con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(duckdb.Error, match=r"database memory is not a DuckLake.*ATTACH"):
        fresh_con.execute(pack_script(ducklake=True))
    fresh_con.execute("ROLLBACK")
    schemas = fresh_con.execute(
        "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'metadata'"
    ).fetchone()
    assert schemas == (0,)


def test_a_keyless_pack_table_in_plain_duckdb_is_still_refused(
    fresh_con: duckdb.DuckDBPyConnection,
) -> None:
    fresh_con.execute("CREATE SCHEMA metadata")
    for step in pack_steps(ducklake=True):
        if step.name == "20_datasets.sql":
            fresh_con.execute(step.sql)
    with pytest.raises(CatalogShapeError, match="other keys, constraints or collations"):
        install_macros(fresh_con)
    assert verify_pack(fresh_con) != ()


def test_ducksets_sql_ducklake_prints_the_keyless_script(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli_main(["sql", "--ducklake"]) == 0
    printed = capsys.readouterr().out
    assert printed == pack_script(ducklake=True)
    assert "ON CONFLICT" not in printed and "is not a DuckLake" in printed
    assert printed != pack_script()


def test_pack_script_ducklake_must_be_a_bool() -> None:
    with pytest.raises(ArgumentTypeError, match="ducklake must be True or False"):
        pack_script(ducklake="yes")  # type: ignore[arg-type]


def test_attach_ducklake_without_the_extension_names_the_package_to_install(
    tmp_path: Path,
) -> None:
    # An empty extension directory: DuckDB has no ducklake, and this venv has no
    # duckdb-extension-ducklake wheel (there is none for DuckDB 2.x).
    con = duckdb.connect(config={"extension_directory": str(tmp_path / "extensions")})
    with pytest.raises(MissingExtensionError) as raised:
        attach_ducklake(con, tmp_path / "catalog.ducklake", data_path=tmp_path / "data")
    version = duckdb.__version__
    assert raised.value.package == f"duckdb-extension-ducklake=={version}"
    assert f"pip install duckdb-extension-ducklake=={version}" in str(raised.value)
    assert "INSTALL ducklake" in str(raised.value)
    assert isinstance(raised.value, ImportError)
    assert not (tmp_path / "catalog.ducklake").exists()
    attached = con.execute("SELECT count(*) FROM duckdb_databases() WHERE NOT internal").fetchone()
    assert attached == (1,)


def test_install_macros_refuses_the_file_that_stores_a_ducklake_catalog(db_path: Path) -> None:
    # What a DuckLake catalog file is to plain DuckDB: a database of ducklake_* tables.
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE TABLE ducklake_metadata (key VARCHAR, value VARCHAR)")
    with duckdb.connect(str(db_path)) as con:
        with pytest.raises(InvalidArgumentError, match=r"is the catalog of a DuckLake.*attach_"):
            install_macros(con)
        schemas = con.execute(
            "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'metadata'"
        ).fetchone()
        assert schemas == (0,)


def test_prepare_ducklake_path_without_the_extension_names_the_package(tmp_path: Path) -> None:
    config = {"extension_directory": str(tmp_path / "extensions")}
    with pytest.raises(MissingExtensionError, match="pip install duckdb-extension-ducklake=="):
        prepare_ducklake_path(f"ducklake:{tmp_path / 'catalog.ducklake'}", config=config)
    with pytest.raises(MissingExtensionError, match="'ducklake'"):
        prepare_ducklake_path(f"ducklake:sqlite:{tmp_path / 'c.sqlite'}", config=config)
    assert not (tmp_path / "catalog.ducklake").exists()
