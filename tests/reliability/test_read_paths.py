"""Keys that name no relation never read a file, a URL or another database.

DuckDB reads ``data.csv`` or ``"/path/leak".csv`` through a replacement scan
when no relation has that name, tries to install httpfs for a URL, and
resolves ``side.t`` to an attached database ``side``'s ``main.t`` when the
current database has no schema ``side``. Every read path of ducksets must
refuse all of these with one error naming the key, and agree with drift.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ducksets import (
    DatasetQueryService,
    Gateway,
    RelationMissingError,
    StorageConfig,
    catalog_drift,
    dataset_relation,
    open_gateway,
)

LEAK = "LEAKED"


@pytest.fixture
def hostile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Gateway, dict[str, str]]]:
    """A gateway whose catalog names files, a URL and an attached database's table."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text(f"origin\n{LEAK}\n", encoding="utf-8")
    (tmp_path / "leak.csv").write_text(f"origin\n{LEAK}\n", encoding="utf-8")
    side = duckdb.connect(str(tmp_path / "side.duckdb"))
    side.execute(f"CREATE TABLE main.t AS SELECT '{LEAK}' AS origin")
    side.close()
    keys = {
        "csvfile": "data.csv",
        "pathfile": f'"{tmp_path}/leak".csv',
        "quotedurl": "'https://example.invalid/x.csv'",
        "url": "https://example.invalid/x.csv",
        "side": "side.t",
    }
    gateway = open_gateway(StorageConfig(tmp_path / "app.duckdb"))
    gateway.con.execute(f"ATTACH '{tmp_path / 'side.duckdb'}' AS side (READ_ONLY)")
    for name, key in keys.items():
        gateway.con.execute(
            "INSERT INTO metadata.datasets (table_key, name, is_view) VALUES (?, ?, false)",
            [key, name],
        )
    yield gateway, keys
    gateway.close()


def test_the_service_refuses_each_key_by_name(hostile: tuple[Gateway, dict[str, str]]) -> None:
    gateway, keys = hostile
    service = DatasetQueryService(gateway)
    for name, key in keys.items():
        with pytest.raises(RelationMissingError) as caught:
            service.read_dataset_rows(dataset_name=name)
        assert caught.value.table_key == key
        assert caught.value.dataset == name
        assert key in str(caught.value)
        assert f"ducksets drift {gateway.config.path}" in str(caught.value)


def test_dataset_relation_refuses_each_key(hostile: tuple[Gateway, dict[str, str]]) -> None:
    gateway, keys = hostile
    for name, key in keys.items():
        with pytest.raises(RelationMissingError, match="ducksets drift") as caught:
            dataset_relation(gateway.con, name)
        assert caught.value.table_key == key


def test_the_macro_never_returns_the_files_rows(hostile: tuple[Gateway, dict[str, str]]) -> None:
    gateway, keys = hostile
    for key in keys.values():
        with pytest.raises(duckdb.Error):
            gateway.con.execute("SELECT * FROM metadata.dataset_rows(?)", [key]).fetchall()
    installed = gateway.con.execute(
        "SELECT count(*) FROM duckdb_extensions() WHERE extension_name = 'httpfs' AND installed"
    ).fetchall()
    assert installed == [(0,)]


def test_drift_calls_the_same_keys_missing(hostile: tuple[Gateway, dict[str, str]]) -> None:
    gateway, keys = hostile
    report = {(item.table_key, item.drift) for item in catalog_drift(gateway.con).items}
    for key in keys.values():
        assert (key, "missing_relation") in report or (key, "invalid_key") in report, key


def test_ducksets_rows_refuses_a_file_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text(f"origin\n{LEAK}\n", encoding="utf-8")
    with open_gateway(StorageConfig(tmp_path / "app.duckdb")) as gateway:
        gateway.con.execute(
            "INSERT INTO metadata.datasets (table_key, name, is_view) "
            "VALUES ('data.csv', 'f', false)"
        )
    done = subprocess.run(
        [sys.executable, "-m", "ducksets", "rows", "app.duckdb", "f"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert LEAK not in done.stdout
    assert "data.csv" in done.stderr


def test_a_catalog_row_added_after_opening_is_readable(tmp_path: Path) -> None:
    with open_gateway(StorageConfig(tmp_path / "app.duckdb")) as gateway:
        service = DatasetQueryService(gateway)
        other = gateway.con.cursor()
        other.execute("CREATE TABLE main.fresh AS SELECT 42 AS answer")
        other.execute(
            "INSERT INTO metadata.datasets (table_key, name, is_view) "
            "VALUES ('main.fresh', 'fresh', false)"
        )
        other.close()
        assert service.read_dataset_rows(dataset_name="fresh").rows == ({"answer": 42},)
        assert dataset_relation(gateway.con, "fresh").fetchall() == [(42,)]
