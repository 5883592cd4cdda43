"""The gateway: writable ones install and bootstrap, read-only ones write nothing."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ducksets.errors import (
    ArgumentTypeError,
    CatalogMissingError,
    GatewayClosedError,
    InvalidArgumentError,
    SchemaError,
    UnknownDatasetError,
)
from ducksets.gateway import StorageConfig, create_view_sql, open_gateway, open_memory_gateway
from ducksets.registry import Dataset
from ducksets.rows import DatasetQueryService
from ducksets.schema import Column, TableSchema, schemas_from_catalog

ITEMS = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "VARCHAR")), ("id",))


def items_config(path: Path, **overrides: Any) -> StorageConfig:
    settings: dict[str, Any] = {
        "tables": {"core.items": ITEMS},
        "views": {"docs.v_items": "SELECT id, upper(label) AS label FROM core.items"},
        "jsonl": {"core.items": "items.jsonl"},
        "parquet": {"docs.v_items": "items_view.parquet"},
        **overrides,
    }
    return StorageConfig(path, **settings)


def test_writable_gateway_creates_installs_and_registers(db_path: Path) -> None:
    with open_gateway(items_config(db_path)) as gateway:
        datasets = gateway.datasets
        assert dict(datasets.mapping) == {"items": "core.items", "v_items": "docs.v_items"}
        assert (datasets.tables, datasets.views) == (("items",), ("v_items",))
        assert dict(datasets.jsonl_mapping) == {"core.items": "items.jsonl"}
        assert dict(datasets.parquet_mapping) == {"docs.v_items": "items_view.parquet"}
        assert datasets.resolve("v_items") == "docs.v_items"
        assert datasets.by_name["items"] == Dataset(
            "core.items", "items", ITEMS, jsonl_filename="items.jsonl"
        )
        assert gateway.con.execute("FROM metadata.catalog_drift()").fetchall() == []
        with pytest.raises(UnknownDatasetError, match="did you mean 'items'"):
            datasets.resolve("itemz")


def test_reopening_is_idempotent(db_path: Path) -> None:
    open_gateway(items_config(db_path)).close()
    with duckdb.connect(str(db_path)) as con:
        before = con.execute("FROM metadata.datasets ORDER BY ALL").fetchall()
        con.execute("INSERT INTO core.items VALUES (1, 'kept')")
    with open_gateway(items_config(db_path)) as gateway:
        assert gateway.con.execute("FROM metadata.datasets ORDER BY ALL").fetchall() == before
        assert gateway.con.execute("FROM docs.v_items").fetchall() == [(1, "KEPT")]


def test_read_only_gateway_writes_nothing(db_path: Path) -> None:
    open_gateway(items_config(db_path)).close()
    before = db_path.read_bytes()
    changed = items_config(
        db_path,
        read_only=True,
        tables={"core.items": ITEMS, "core.more": ITEMS},
        jsonl={"core.items": "other.jsonl"},
    )
    with open_gateway(changed) as gateway:
        # It reads what the writable run left, not what this config declares.
        assert dict(gateway.datasets.jsonl_mapping) == {"core.items": "items.jsonl"}
        assert "more" not in gateway.datasets.mapping
        assert gateway.dataset("items").schema == ITEMS
    assert db_path.read_bytes() == before


def test_read_only_gateway_without_catalog_says_to_install(db_path: Path) -> None:
    duckdb.connect(str(db_path)).close()
    with pytest.raises(CatalogMissingError, match="ducksets install"):
        open_gateway(StorageConfig(db_path, read_only=True))


def test_refresh_sees_new_catalog_rows() -> None:
    with open_memory_gateway(tables={"core.items": ITEMS}) as gateway:
        gateway.con.execute("CREATE TABLE core.extra (x INT)")
        gateway.con.execute(
            "INSERT INTO metadata.datasets VALUES ('core.extra', 'extra', FALSE, NULL, NULL)"
        )
        assert "extra" not in gateway.datasets.mapping
        assert gateway.refresh().mapping["extra"] == "core.extra"
        assert gateway.dataset("extra").schema is None


def test_failing_open_closes_and_reports(db_path: Path) -> None:
    with pytest.raises(SchemaError, match="exactly one SELECT"):
        open_gateway(items_config(db_path, views={"docs.v": "SELECT 1; DROP TABLE core.items"}))


def test_view_definitions_must_be_one_query() -> None:
    assert (
        create_view_sql('docs."v 1"', "SELECT 1 AS x")
        == 'CREATE OR REPLACE VIEW "docs"."v 1" AS SELECT 1 AS x'
    )
    with pytest.raises(SchemaError, match="does not parse"):
        create_view_sql("docs.v", "SELEC 1 FROM")
    with pytest.raises(SchemaError, match="exactly one SELECT"):
        create_view_sql("docs.v", "DELETE FROM core.items")


def test_codeintel_gateway(tmp_path: Path, codeintel_catalog: dict[str, Any]) -> None:
    tables = schemas_from_catalog(codeintel_catalog["tables"])
    config = StorageConfig(
        tmp_path / "codeintel.db",
        tables=tables,
        jsonl=codeintel_catalog["jsonl_filenames"],
        parquet={k: v for k, v in codeintel_catalog["parquet_filenames"].items() if k in tables},
    )
    with open_gateway(config) as gateway:
        assert len(gateway.datasets.tables) == 74
        assert gateway.datasets.resolve("function_metrics") == "analytics.function_metrics"
        assert gateway.con.execute("FROM metadata.catalog_drift()").fetchall() == []


def test_a_dataset_registered_after_opening_is_found(db_path: Path) -> None:
    with open_gateway(items_config(db_path)) as gateway:
        other = gateway.con.cursor()  # a second connection to the same database
        other.execute("CREATE TABLE main.fresh AS SELECT 1 AS x")
        other.execute(
            "INSERT INTO metadata.datasets (table_key, name, is_view) "
            "VALUES ('main.fresh', 'fresh', false)"
        )
        other.close()
        assert gateway.dataset("fresh").table_key == "main.fresh"
        with pytest.raises(UnknownDatasetError, match="no dataset 'stale'"):
            gateway.dataset("stale")


@pytest.mark.parametrize(
    ("path", "error"),
    [(None, ArgumentTypeError), (5, ArgumentTypeError), ("", InvalidArgumentError)],
)
def test_storage_config_refuses_paths_that_are_not_paths(
    path: Any, error: type[Exception], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match="path"):
        StorageConfig(path)
    assert list(tmp_path.iterdir()) == []  # StorageConfig(None) once created ./None


def test_gateway_connections_never_download_extensions(db_path: Path) -> None:
    with open_gateway(items_config(db_path)) as gateway:
        setting = gateway.con.execute(
            "SELECT current_setting('autoinstall_known_extensions')"
        ).fetchall()
    assert setting == [(False,)]


def test_closing_while_threads_read_is_safe(db_path: Path) -> None:
    config = StorageConfig(db_path, views={"main.nums": "SELECT range AS n FROM range(200000)"})
    gateway = open_gateway(config)
    service = DatasetQueryService(gateway)
    outcomes: list[str] = []  # list.append is atomic across threads

    def read() -> None:
        for _ in range(200):
            try:
                service.read_dataset_rows(dataset_name="nums", limit=50, offset=150_000)
                outcomes.append("page")
            except GatewayClosedError:
                outcomes.append("closed")
                return
            except Exception as exc:  # the assertion below names it
                outcomes.append(f"{type(exc).__name__}: {exc}")
                return

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    time.sleep(0.05)
    gateway.close()
    for reader in readers:
        reader.join(timeout=60)
    assert set(outcomes) <= {"page", "closed"}, set(outcomes) - {"page", "closed"}
    assert outcomes.count("closed") == 4


def test_a_gateway_on_a_connection_that_used_another_database_reads_there(
    tmp_path: Path,
) -> None:
    # A cursor starts in the database's default catalog, not where the
    # connection's USE moved it: how a DuckLake attached and USEd looks.
    from ducksets.gateway import Gateway
    from ducksets.pack import install_macros

    con = duckdb.connect()
    con.execute(f"ATTACH '{tmp_path / 'other.duckdb'}' AS other")
    con.execute("USE other")
    install_macros(con)
    con.execute("CREATE TABLE items AS SELECT range AS id FROM range(3)")
    con.execute("INSERT INTO metadata.datasets VALUES ('main.items', 'items', false, NULL, NULL)")
    with Gateway(StorageConfig(), con) as gateway:
        page = DatasetQueryService(gateway).read_dataset_rows(dataset_name="items", limit=10)
        assert [row["id"] for row in page.rows] == [0, 1, 2]
        with gateway.cursor() as cursor:
            assert cursor.execute("SELECT current_database()").fetchone() == ("other",)
