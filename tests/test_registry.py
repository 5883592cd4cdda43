"""The registry: datasets read from the catalog as it is now."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from ducksets.errors import (
    CatalogMissingError,
    UnknownDatasetError,
)
from ducksets.registry import load_dataset_registry
from ducksets.sync import sync_catalog


def test_registry_without_python_schemas_uses_the_stored_declarations(codeintel: Any) -> None:
    con, tables, _ = codeintel
    registry = load_dataset_registry(con)
    assert {k: d.schema for k, d in registry.by_table_key.items() if not d.is_view} == tables


def test_unknown_names_suggest_close_ones(codeintel: Any) -> None:
    registry = load_dataset_registry(codeintel[0])
    with pytest.raises(
        UnknownDatasetError, match="no dataset 'function_metric'; did you mean 'function_metrics'"
    ):
        registry.dataset_for_name("function_metric")
    with pytest.raises(KeyError):
        registry.resolve_table_key("nothing-like-it")


def test_missing_catalog_says_to_install(fresh_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(CatalogMissingError, match="install_macros"):
        load_dataset_registry(fresh_con)


def test_a_row_with_an_invalid_key_is_drift_not_a_crash(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA core; CREATE TABLE core.t (x INT)")
    con.execute(
        "INSERT INTO metadata.datasets VALUES "
        "('core.t', 't', FALSE, NULL, NULL), ('not a key', 'broken', FALSE, NULL, NULL)"
    )
    registry = load_dataset_registry(con)
    assert registry.dataset_for_name("broken").schema is None
    assert registry.dataset_for_table("core.t").name == "t"
    assert [i[1] for i in con.execute("FROM metadata.catalog_drift()").fetchall()] == [
        "invalid_key"
    ]
    report = sync_catalog(con, ["core"])
    assert (report.added, report.left) == ((), ("core.t",))
