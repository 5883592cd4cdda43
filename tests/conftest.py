"""Shared fixtures: connections with and without the pack, database files, the codeintel catalog."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ducksets import install_macros

REPO_ROOT = Path(__file__).resolve().parents[1]
CODEINTEL_CATALOG = REPO_ROOT.parent / "shared" / "fixtures" / "codeintel" / "catalog.json"


@pytest.fixture
def fresh_con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database without the pack."""
    con = duckdb.connect()
    yield con
    con.close()


@pytest.fixture
def con(fresh_con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the pack installed in schema ``metadata``."""
    install_macros(fresh_con)
    return fresh_con


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a database file that does not exist yet."""
    return tmp_path / "test.db"


@pytest.fixture(scope="session")
def codeintel_catalog() -> dict[str, Any]:
    """The real codeintel application's catalog (74 tables, 35 views)."""
    if not CODEINTEL_CATALOG.is_file():
        pytest.fail(f"{CODEINTEL_CATALOG} is missing: clone the repo beside ../shared")
    catalog: dict[str, Any] = json.loads(CODEINTEL_CATALOG.read_text(encoding="utf-8"))
    return catalog
