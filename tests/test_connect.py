"""Opening database files: DuckDB files only, no in-memory fallback, no downloads."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ducksets._connect import connect
from ducksets.errors import (
    ArgumentTypeError,
    DatabaseLockedError,
    DucksetsError,
    InvalidArgumentError,
    MissingExtensionError,
    NotADatabaseError,
)

# Every storage format this DuckDB can write (v1.4.0 needs DuckDB 1.4 or newer).
_DUCKDB = tuple(int(p) for p in duckdb.__version__.split(".")[:2])
STORAGE_VERSIONS = [
    "v0.10.2",
    "v1.0.0",
    "v1.2.0",
    *(["v1.4.0"] if _DUCKDB >= (1, 4) else []),
    "latest",
]


@pytest.mark.parametrize("storage", STORAGE_VERSIONS)
def test_every_storage_version_opens(tmp_path: Path, storage: str) -> None:
    path = tmp_path / f"{storage}.db"
    with duckdb.connect(str(path), config={"storage_compatibility_version": storage}) as con:
        con.execute("CREATE TABLE t AS SELECT 42 AS x")
    assert path.read_bytes()[8:12] == b"DUCK"
    with connect(path, read_only=True) as con:
        assert con.execute("FROM t").fetchall() == [(42,)]


def _sqlite(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()


def _parquet(path: Path) -> None:
    duckdb.sql(f"COPY (SELECT 1 AS x) TO '{path}' (FORMAT PARQUET)")


def _text(path: Path) -> None:
    path.write_text("name,value\na,1\n")


def _short(path: Path) -> None:
    path.write_bytes(b"DUCK")


@pytest.mark.parametrize("make", [_sqlite, _parquet, _text, _short], ids=lambda f: f.__name__)
@pytest.mark.parametrize("read_only", [True, False])
def test_a_file_that_is_not_duckdb_is_refused_and_left_alone(
    tmp_path: Path, make: object, read_only: bool
) -> None:
    path = tmp_path / "other.file"
    make(path)  # type: ignore[operator]
    before = path.read_bytes()
    with pytest.raises(NotADatabaseError, match="is not a DuckDB database file") as caught:
        connect(path, read_only=read_only)
    assert caught.value.path == str(path)
    assert isinstance(caught.value, OSError) and isinstance(caught.value, DucksetsError)
    assert path.read_bytes() == before
    assert not path.with_name(path.name + ".wal").exists()


def test_an_empty_file_is_refused_as_duckdb_itself_does(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(duckdb.IOException, match="not a valid DuckDB database file"):
        duckdb.connect(str(path))
    for read_only in (True, False):
        with pytest.raises(NotADatabaseError, match="is an empty file.*delete it"):
            connect(path, read_only=read_only)
    assert path.read_bytes() == b""


def test_a_directory_is_refused(tmp_path: Path) -> None:
    for read_only in (True, False):
        with pytest.raises(NotADatabaseError, match="is a directory; give a database file"):
            connect(tmp_path, read_only=read_only)


def test_a_missing_file_is_created_only_when_writable(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with pytest.raises(NotADatabaseError) as caught:
        connect(path, read_only=True)
    assert str(caught.value) == (
        f"no database file {path}; check the path (ducksets demo makes one to try)"
    )
    assert not path.exists()
    with connect(path, read_only=False) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    assert path.read_bytes()[8:12] == b"DUCK"
    with pytest.raises(NotADatabaseError, match="no directory"):
        connect(tmp_path / "nowhere" / "new.db", read_only=False)


def test_no_connection_downloads_extensions_and_caller_config_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    with connect(path, read_only=False, config={"storage_compatibility_version": "v1.0.0"}) as con:
        setting = con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchall()
        assert setting == [(False,)]
        con.execute("CREATE TABLE t (x INTEGER)")
    with connect(path, read_only=True) as con:
        [(storage,)] = con.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'v1'"
        ).fetchall()
        assert storage.startswith("v1.0.0")
    with connect(":memory:", read_only=False) as con:
        setting = con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchall()
        assert setting == [(False,)]


def test_a_database_already_open_in_this_process_is_joined_as_it_is(tmp_path: Path) -> None:
    """DuckDB keeps one database per file and process; its first opener's settings apply."""
    path = tmp_path / "shared.db"
    with duckdb.connect(str(path)) as owner:
        owner.execute("CREATE TABLE t AS SELECT 1 AS x")
        with connect(path, read_only=False) as joined:
            assert joined.execute("FROM t").fetchall() == [(1,)]
            joined.execute("INSERT INTO t VALUES (2)")
        assert owner.execute("SELECT count(*) FROM t").fetchall() == [(2,)]


@pytest.mark.parametrize("path", [None, 5, b"x.db"])
def test_a_path_of_another_type_is_a_type_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: object
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ArgumentTypeError, match="path must be") as caught:
        connect(path, read_only=False)  # type: ignore[arg-type]
    assert caught.value.parameter == "path" and isinstance(caught.value, TypeError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ["", "   "])
def test_an_empty_path_is_refused_not_memory(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a regression would create the file here, not in the repo
    with pytest.raises(InvalidArgumentError, match="path is empty") as caught:
        connect(path, read_only=False)
    assert caught.value.parameter == "path" and isinstance(caught.value, ValueError)
    assert list(tmp_path.iterdir()) == []


def test_a_database_another_process_writes_is_one_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        for read_only in (True, False):
            with pytest.raises(DatabaseLockedError, match="in use by another process") as caught:
                connect(path, read_only=read_only)
            assert caught.value.path == str(path) and isinstance(caught.value, OSError)
    finally:
        holder.kill()
        holder.wait()


HOLD_OPEN = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
time.sleep(60)
"""


def test_a_path_that_is_not_unicode_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="lone surrogate") as caught:
        connect(str(tmp_path / "base\ud800.duckdb"), read_only=False)
    assert caught.value.parameter == "path"
    assert list(tmp_path.iterdir()) == []


def test_a_ducklake_path_without_the_extension_names_the_package(tmp_path: Path) -> None:
    # The main suite's DuckDB has no ducklake extension (it cannot be downloaded
    # here, and the wheels load only into 1.5.5): one typed error, not DuckDB's
    # "Extension not found", and not a NotADatabaseError about a missing file.
    catalog = tmp_path / "catalog.ducklake"
    with pytest.raises(MissingExtensionError, match="duckdb-extension-ducklake") as info:
        connect(f"ducklake:{catalog}", read_only=False)
    assert info.value.extension == "ducklake"
    assert not catalog.exists()


def test_a_read_only_ducklake_path_needs_its_catalog_file(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.ducklake"
    with pytest.raises(NotADatabaseError, match="no DuckLake catalog") as info:
        connect(f"ducklake:{catalog}", read_only=True)
    assert info.value.path == f"ducklake:{catalog}"
