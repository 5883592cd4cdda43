"""Upgrades from every released pack (``tests/fixtures/pack-<v>.sql``) keep the catalog."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ducksets import (
    catalog_drift,
    install_macros,
    load_dataset_registry,
    pack_version,
    verify_pack,
)

FIXTURES = Path(__file__).with_name("fixtures")
RELEASED = sorted(FIXTURES.glob("pack-*.sql"))


def test_every_release_before_this_one_is_frozen() -> None:
    versions = [p.stem.removeprefix("pack-") for p in RELEASED]
    assert {"0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0"} <= set(versions)
    assert pack_version() not in versions or pack_version() == max(versions)


@pytest.mark.parametrize("old_script", RELEASED, ids=lambda p: p.stem)
def test_upgrade_keeps_rows_and_leaves_a_complete_pack(old_script: Path, tmp_path: Path) -> None:
    old_version = old_script.stem.removeprefix("pack-")
    path = tmp_path / "old.db"
    with duckdb.connect(str(path)) as con:
        con.execute(old_script.read_text(encoding="utf-8"))
        con.execute("CREATE SCHEMA core; CREATE TABLE core.t AS SELECT range AS n FROM range(3)")
        con.execute("INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, 't.jsonl', NULL)")
        # dataset_columns came with 0.2.0; a 0.1.0 catalog declares no columns.
        has_columns = old_version != "0.1.0"
        if has_columns:
            row = "('core.t', 'n', 1, 'BIGINT', TRUE, NULL)"
            con.execute(f"INSERT INTO metadata.dataset_columns VALUES {row}")
    with duckdb.connect(str(path)) as con:
        result = install_macros(con)
        assert (result.version_before, result.version_after) == (old_version, pack_version())
        assert result.action == ("unchanged" if old_version == pack_version() else "upgraded")
        assert verify_pack(con) == ()
        dataset = load_dataset_registry(con).dataset_for_name("t")
        assert (dataset.table_key, dataset.jsonl_filename) == ("core.t", "t.jsonl")
        declared = con.execute(
            "SELECT table_key, column_name, declared_type FROM metadata.dataset_columns"
        )
        assert declared.fetchall() == ([("core.t", "n", "BIGINT")] if has_columns else [])
        assert catalog_drift(con).in_sync
        rows = con.execute("SELECT n FROM metadata.dataset_rows('core.t', row_limit := 5)")
        assert rows.fetchall() == [(0,), (1,), (2,)]
