"""The scale-out leg: real DuckLake catalogs (and S3 through moto) on DuckDB 1.5.5.

These tests need the DuckDB extension packages (``duckdb-extension-ducklake``,
``-sqlite``, ``-httpfs`` and ``duckdb-extensions``, all 1.5.5), which load only
into exactly duckdb 1.5.5. ``scripts/scale-tests`` makes that venv
(``.venv-scale``) and runs this directory; the main suite (DuckDB 2.x, no
extensions) does not collect it (pyproject's ``--ignore=tests/scale``, and this
file when the extension packages are not importable).

Adding tests here (other helpers: H2 ``test_ducklake_catalog.py``, H3
``test_export_httpfs.py``):

- Name the file ``tests/scale/test_<topic>.py``; run it with
  ``scripts/scale-tests tests/scale/test_<topic>.py`` (extra arguments go to pytest,
  ``-k``/``-x`` too).
- Fixtures here: ``ducklake_con`` (a DuckLake whose catalog is a DuckDB file),
  ``ducklake_sqlite_con`` (catalog in SQLite) and ``any_ducklake_con`` (both, one
  test each): an in-memory DuckDB connection with the lake attached as ``lake``
  and ``USE``d, data files under ``tmp_path/data``. The pack is NOT installed:
  call ``install_macros(con)``. For a second connection or process on the same
  lake, take ``ducklake_catalog`` / ``ducklake_sqlite_catalog`` (a ``Lake``):
  ``lake.connect()`` opens another connection attached the same way,
  ``lake.attach_sql`` is the ATTACH statement and ``lake.extensions`` the
  extensions to import first (``duckdb_extensions.import_extension(name, con=con)``),
  for a subprocess.
- The fixtures of ``tests/conftest.py`` work here too (``fresh_con``, ``con``, ...).
- Only real engines: no mocks of DuckDB, no skips. Anything imported here must
  be in the venv ``scripts/scale-tests`` builds; a new test dependency goes in
  its ``REQUIREMENTS`` list (the venv is rebuilt when that list changes).
  The code under test is the checkout's (``PYTHONPATH=python``), subprocesses too.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

# The main venv lacks the extension packages: nothing here can run there.
if importlib.util.find_spec("duckdb_extensions") is None:
    collect_ignore_glob = ["test_*.py"]

LAKE = "lake"
"""The name every fixture attaches its DuckLake under."""


@dataclass(frozen=True)
class Lake:
    """A DuckLake: where its catalog and data live, and how to attach it.

    ``catalog`` is the part after ``ducklake:`` (``/tmp/x/catalog.ducklake`` or
    ``sqlite:/tmp/x/catalog.sqlite``); ``data_path`` the directory of its Parquet files.
    """

    catalog: str
    data_path: Path
    extensions: tuple[str, ...] = ("ducklake",)
    name: str = LAKE

    @property
    def attach_sql(self) -> str:
        """``ATTACH 'ducklake:…' AS lake (DATA_PATH '…')``."""
        return (
            f"ATTACH {_literal('ducklake:' + self.catalog)} AS {self.name} "
            f"(DATA_PATH {_literal(str(self.data_path) + '/')})"
        )

    def attach(self, con: duckdb.DuckDBPyConnection, *, use: bool = True) -> None:
        """Import the extensions into ``con``, attach the lake, and ``USE`` it."""
        import duckdb_extensions  # only in .venv-scale

        for extension in self.extensions:
            duckdb_extensions.import_extension(extension, con=con)
        con.execute(self.attach_sql)
        if use:
            con.execute(f"USE {self.name}")

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A new in-memory connection with the lake attached and ``USE``d."""
        con = duckdb.connect()
        try:
            self.attach(con)
        except BaseException:
            con.close()
            raise
        return con


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@pytest.fixture
def ducklake_catalog(tmp_path: Path) -> Lake:
    """A DuckLake whose catalog is a DuckDB file; data under ``tmp_path/data``."""
    return Lake(str(tmp_path / "catalog.ducklake"), tmp_path / "data")


@pytest.fixture
def ducklake_sqlite_catalog(tmp_path: Path) -> Lake:
    """A DuckLake whose catalog is a SQLite file; data under ``tmp_path/data``."""
    return Lake(f"sqlite:{tmp_path / 'catalog.sqlite'}", tmp_path / "data", ("ducklake", "sqlite"))


@pytest.fixture
def ducklake_con(ducklake_catalog: Lake) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with a DuckLake (DuckDB-file catalog) attached as ``lake`` and USEd."""
    con = ducklake_catalog.connect()
    yield con
    con.close()


@pytest.fixture
def ducklake_sqlite_con(ducklake_sqlite_catalog: Lake) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with a DuckLake (SQLite catalog) attached as ``lake`` and USEd."""
    con = ducklake_sqlite_catalog.connect()
    yield con
    con.close()


@pytest.fixture(params=["duckdb-catalog", "sqlite-catalog"])
def any_lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    """Each DuckLake kind in turn (one test per catalog database)."""
    if request.param == "duckdb-catalog":
        return Lake(str(tmp_path / "catalog.ducklake"), tmp_path / "data")
    return Lake(f"sqlite:{tmp_path / 'catalog.sqlite'}", tmp_path / "data", ("ducklake", "sqlite"))


@pytest.fixture
def any_ducklake_con(any_lake: Lake) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with each DuckLake kind in turn attached as ``lake`` and USEd."""
    con = any_lake.connect()
    yield con
    con.close()
