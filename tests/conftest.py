"""Shared fixtures: connections with and without the pack, database files, the codeintel catalog."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from builders import build_from_catalog
from ducksets import TableSchema, bootstrap_metadata_datasets, install_macros

REPO_ROOT = Path(__file__).resolve().parents[1]
CODEINTEL_CATALOG = REPO_ROOT / "tests" / "fixtures" / "codeintel" / "catalog.json"


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
        pytest.fail(f"{CODEINTEL_CATALOG} is missing from this checkout")
    catalog: dict[str, Any] = json.loads(CODEINTEL_CATALOG.read_text(encoding="utf-8"))
    return catalog


CodeintelBuilder = Callable[..., tuple[dict[str, TableSchema], dict[str, str]]]


@pytest.fixture
def bootstrap_codeintel(codeintel_catalog: dict[str, Any]) -> CodeintelBuilder:
    """A function that builds the codeintel database in a connection (pack installed)
    with ``rows_per_table`` generated rows, registers every dataset with its
    filenames, and returns the declared tables and view definitions."""

    def build(
        con: duckdb.DuckDBPyConnection, *, rows_per_table: int
    ) -> tuple[dict[str, TableSchema], dict[str, str]]:
        tables, views = build_from_catalog(con, codeintel_catalog, rows_per_table=rows_per_table)
        bootstrap_metadata_datasets(
            con,
            tables=tables,
            views=tuple(views),
            jsonl=codeintel_catalog["jsonl_filenames"],
            parquet=codeintel_catalog["parquet_filenames"],
        )
        return tables, views

    return build


@pytest.fixture
def codeintel(
    con: duckdb.DuckDBPyConnection, bootstrap_codeintel: CodeintelBuilder
) -> tuple[duckdb.DuckDBPyConnection, dict[str, TableSchema], dict[str, str]]:
    """The codeintel database (74 tables, 35 views, a few rows each), bootstrapped."""
    tables, views = bootstrap_codeintel(con, rows_per_table=3)
    return con, tables, views


# S3 through moto (tests/s3_server.py): one server per session, started on first use.
@pytest.fixture(scope="session")
def moto_s3() -> Iterator[Any]:
    """A running ``moto.MotoServer`` (an S3 endpoint on a free loopback port)."""
    from s3_server import moto_server

    with moto_server() as server:
        yield server


@pytest.fixture
def s3_bucket(moto_s3: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on ``moto_s3``, with the AWS environment pointing at the server.

    Only these variables reach botocore: no shared config, credentials or instance metadata.
    """
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in moto_s3.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    name: str = moto_s3.new_bucket()
    return name
