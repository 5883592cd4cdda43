"""The typed catalog: registry round trip, batched idempotent bootstrap, drift, sync."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from ducksets import install_macros, pack_files
from ducksets.catalog import (
    Dataset,
    bootstrap_metadata_datasets,
    check_filename,
    load_dataset_registry,
    register_dataset,
    sync_catalog,
    unregister_dataset,
)
from ducksets.errors import CatalogMissingError, DucksetsError, UnknownDatasetError
from ducksets.schema import Column, TableSchema

if TYPE_CHECKING:
    from conftest import CodeintelBuilder

ITEMS = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "VARCHAR")), ("id",))


@pytest.fixture
def codeintel(
    con: duckdb.DuckDBPyConnection, bootstrap_codeintel: CodeintelBuilder
) -> tuple[duckdb.DuckDBPyConnection, dict[str, TableSchema], dict[str, str]]:
    """The codeintel database (74 tables, 35 views, a few rows each), bootstrapped."""
    tables, views = bootstrap_codeintel(con, rows_per_table=3)
    return con, tables, views


def catalog(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return (
        con.execute("FROM metadata.datasets ORDER BY table_key").fetchall()
        + con.execute("FROM metadata.dataset_columns ORDER BY ALL").fetchall()
    )


def test_roundtrip_on_the_codeintel_catalog(
    codeintel: Any, codeintel_catalog: dict[str, Any]
) -> None:
    con, tables, _ = codeintel
    registry = load_dataset_registry(con, schemas=tables)
    assert len(registry.by_name) == 109
    dataset = registry.dataset_for_name("function_metrics")
    row = con.execute("FROM metadata.datasets WHERE name = 'function_metrics'").fetchone()
    assert row == (
        dataset.table_key,
        dataset.name,
        dataset.is_view,
        dataset.jsonl_filename,
        dataset.parquet_filename,
    )
    assert dataset.table_key == "analytics.function_metrics"
    assert dataset.schema == tables["analytics.function_metrics"]
    assert dict(registry.jsonl_datasets) == codeintel_catalog["jsonl_filenames"]
    assert dict(registry.parquet_datasets) == codeintel_catalog["parquet_filenames"]
    summary = registry.dataset_for_table("docs.v_validation_summary")
    assert (summary.is_view, summary.schema, summary.parquet_filename) == (
        True,
        None,
        "validation_summary.parquet",
    )
    assert con.execute("FROM metadata.catalog_drift()").fetchall() == []


def test_registry_without_python_schemas_uses_the_stored_declarations(codeintel: Any) -> None:
    con, tables, _ = codeintel
    registry = load_dataset_registry(con)
    assert {k: d.schema for k, d in registry.by_table_key.items() if not d.is_view} == tables


def test_bootstrap_twice_gives_the_identical_catalog(
    codeintel: Any, codeintel_catalog: dict[str, Any]
) -> None:
    con, tables, views = codeintel
    before = catalog(con)
    bootstrap_metadata_datasets(
        con,
        tables=tables,
        views=tuple(views),
        jsonl=codeintel_catalog["jsonl_filenames"],
        parquet=codeintel_catalog["parquet_filenames"],
    )
    assert catalog(con) == before
    assert len(before) == 109 + 1089


def test_bootstrap_updates_in_place(con: duckdb.DuckDBPyConnection) -> None:
    bootstrap_metadata_datasets(con, tables={"core.items": ITEMS}, jsonl={"core.items": "a.jsonl"})
    bootstrap_metadata_datasets(
        con,
        tables={"core.items": ITEMS},
        parquet={"core.items": "b.parquet"},
        names={"core.items": "things"},
    )
    assert con.execute("FROM metadata.datasets").fetchall() == [
        ("core.items", "things", False, None, "b.parquet")
    ]


def test_two_keys_with_one_name_are_refused_naming_both(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(
        DucksetsError, match=r"'items' would belong to both 'core.items' and 'graph.items'"
    ):
        bootstrap_metadata_datasets(con, tables={"core.items": ITEMS, "graph.items": ITEMS})
    assert con.execute("SELECT count(*) FROM metadata.datasets").fetchone() == (0,)
    bootstrap_metadata_datasets(con, tables={"core.items": ITEMS})
    with pytest.raises(DucksetsError, match=r"both 'core.items' and 'graph.items'"):
        bootstrap_metadata_datasets(con, tables={"graph.items": ITEMS})


def test_keys_differing_in_case_are_one_dataset(con: duckdb.DuckDBPyConnection) -> None:
    bootstrap_metadata_datasets(con, tables={"core.items": ITEMS})
    bootstrap_metadata_datasets(con, tables={"CORE.Items": ITEMS}, jsonl={"CORE.Items": "x.jsonl"})
    assert con.execute("SELECT table_key, jsonl_filename FROM metadata.datasets").fetchall() == [
        ("core.items", "x.jsonl")
    ]
    with pytest.raises(DucksetsError, match="name the same relation"):
        bootstrap_metadata_datasets(con, tables={"core.items": ITEMS, "Core.ITEMS": ITEMS})
    registry = load_dataset_registry(con)
    assert registry.dataset_for_table('"CORE"."ITEMS"').name == "items"


@pytest.mark.parametrize(
    "filename", ["../x.jsonl", "/tmp/x.jsonl", "a/b.jsonl", "a\\b.jsonl", "..", "", "C:x"]
)
def test_filenames_must_stay_in_the_output_directory(
    con: duckdb.DuckDBPyConnection, filename: str
) -> None:
    with pytest.raises(DucksetsError, match="not a plain file name"):
        bootstrap_metadata_datasets(
            con, tables={"core.items": ITEMS}, jsonl={"core.items": filename}
        )
    assert con.execute("SELECT count(*) FROM metadata.datasets").fetchone() == (0,)


@pytest.mark.parametrize("name", ["", "a/b", "..", "a\\b"])
def test_names_that_cannot_be_file_names_are_refused(
    con: duckdb.DuckDBPyConnection, name: str
) -> None:
    with pytest.raises(DucksetsError, match="dataset name .* cannot name a file"):
        bootstrap_metadata_datasets(con, tables={"core.items": ITEMS}, names={"core.items": name})


def test_odd_but_plain_filenames_are_fine() -> None:
    assert check_filename("it's; a file.parquet") == "it's; a file.parquet"


def test_unknown_names_suggest_close_ones(codeintel: Any) -> None:
    registry = load_dataset_registry(codeintel[0])
    with pytest.raises(
        UnknownDatasetError, match="no dataset 'function_metric'; did you mean 'function_metrics'"
    ):
        registry.dataset_for_name("function_metric")
    with pytest.raises(KeyError):
        registry.resolve_table_key("nothing-like-it")


def test_drift_missing_table_and_altered_column(codeintel: Any) -> None:
    con, tables, _ = codeintel
    con.execute(
        "INSERT INTO metadata.datasets "
        "VALUES ('analytics.not_there', 'not_there', FALSE, NULL, NULL)"
    )
    con.execute("ALTER TABLE analytics.function_metrics ALTER COLUMN loc TYPE VARCHAR")
    registry = load_dataset_registry(con, schemas=tables)
    assert registry.dataset_for_name("not_there").schema is None
    assert con.execute("FROM metadata.catalog_drift()").fetchall() == [
        ("analytics.not_there", "missing_relation", "no table or view analytics.not_there exists"),
        (
            "analytics.function_metrics",
            "type_mismatch",
            "column loc is declared INTEGER but is VARCHAR",
        ),
    ]


def test_drift_missing_and_unexpected_columns(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA core; CREATE TABLE core.items (id BIGINT NOT NULL, other INT)")
    bootstrap_metadata_datasets(con, tables={"core.items": ITEMS})
    assert con.execute("SELECT drift, detail FROM metadata.catalog_drift()").fetchall() == [
        ("missing_column", "column label (VARCHAR) is declared but the table has no such column"),
        ("unexpected_column", "column other (INTEGER) is in the table but not declared"),
    ]


def test_register_detects_the_kind_and_unregister_removes(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA s; CREATE TABLE s.t (id INT); CREATE VIEW s.v AS SELECT * FROM s.t")
    assert register_dataset(con, "S.V") == '"S"."V"'
    assert register_dataset(con, "s.t", schema=TableSchema((Column("id", "INT"),))) == "s.t"
    registry = load_dataset_registry(con)
    assert registry.dataset_for_name("V").is_view
    assert registry.dataset_for_name("t").schema == TableSchema((Column("id", "INTEGER"),))
    with pytest.raises(DucksetsError, match="no table or view s.nope; create it first"):
        register_dataset(con, "s.nope")
    assert unregister_dataset(con, "t") == "s.t"
    assert con.execute("SELECT count(*) FROM metadata.dataset_columns").fetchone() == (0,)
    with pytest.raises(UnknownDatasetError, match="no dataset 't'"):
        unregister_dataset(con, "t")


def test_sync_registers_what_exists_and_reports(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE SCHEMA a; CREATE SCHEMA b; CREATE TABLE a.t (x INT); CREATE TABLE b.t (x INT);"
        "CREATE VIEW a.v AS SELECT 1 AS y"
    )
    register_dataset(con, "a.v", is_view=False)  # wrong kind on purpose
    dry = sync_catalog(con, ["a", "b"], dry_run=True)
    assert (dry.added, dry.updated, dry.left, dry.dry_run) == (("a.t", "b.t"), ("a.v",), (), True)
    assert con.execute("SELECT count(*) FROM metadata.datasets").fetchone() == (1,)
    report = sync_catalog(con, ["a", "b"])
    assert (report.added, report.updated) == (("a.t", "b.t"), ("a.v",))
    assert con.execute(
        "SELECT table_key, name, is_view FROM metadata.datasets ORDER BY 1"
    ).fetchall() == [("a.t", "t", False), ("a.v", "v", True), ("b.t", "b_t", False)]
    assert con.execute("FROM metadata.catalog_drift()").fetchall() == []
    again = sync_catalog(con, ["a", "b"])
    assert (again.added, again.updated, again.left) == ((), (), ("a.t", "a.v", "b.t"))
    with pytest.raises(DucksetsError, match="no schema 'zz'"):
        sync_catalog(con, ["zz"])


def test_missing_catalog_says_to_install(fresh_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(CatalogMissingError, match="install_macros"):
        load_dataset_registry(fresh_con)


def test_bootstrap_of_ten_thousand_is_one_batch(con: duckdb.DuckDBPyConnection) -> None:
    tables = {f"s.t{i}": ITEMS for i in range(10_000)}
    assert len(bootstrap_metadata_datasets(con, tables=tables)) == 10_000
    assert con.execute("SELECT count(*) FROM metadata.dataset_columns").fetchone() == (20_000,)


def test_upgrade_from_pack_0_1_0_keeps_rows_and_adds_columns_table(
    fresh_con: duckdb.DuckDBPyConnection,
) -> None:
    from pathlib import Path

    old_script = Path(__file__).with_name("fixtures") / "pack-0.1.0.sql"
    fresh_con.execute(old_script.read_text(encoding="utf-8"))
    fresh_con.execute(
        "INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, 't.jsonl', NULL)"
    )
    with pytest.raises(CatalogMissingError, match="old pack"):
        load_dataset_registry(fresh_con)
    result = install_macros(fresh_con)
    assert (result.action, result.version_before) == ("upgraded", "0.1.0")
    # Everything the pack makes now that 0.1.0 did not: its tables and macros.
    made_by_0_1_0 = {
        "datasets",
        "pack_info",
        "pack_version",
        "quote_ident",
        "quote_literal",
        "format_ident",
        "table_key_pattern",
        "unquote_ident",
        "split_table_key",
        "quote_table_key",
        "dataset_exists",
        "dataset_rows",
        "dataset_export_sql",
        "catalog_drift",
        "check_no_downgrade",
    }
    made_now = {f.object_name for f in pack_files() if f.kind != "row"} - {None}
    assert "dataset_columns" in made_now - made_by_0_1_0
    assert set(result.created) == made_now - made_by_0_1_0
    registry = load_dataset_registry(fresh_con)
    assert registry.by_name["t"] == Dataset("core.t", "t", None, jsonl_filename="t.jsonl")


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
