"""Catalog-driven exports: what the catalog lists is written, whole or not at all."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from ducksets.errors import DucksetsError, UnknownDatasetError
from ducksets.export import (
    MANIFEST_NAME,
    TEMP_PREFIX,
    ExportedFile,
    ExportFailure,
    ExportResult,
    export_all_jsonl,
    export_all_parquet,
    export_dataset_to_jsonl,
    export_dataset_to_parquet,
    export_datasets,
    read_manifest,
    write_dataset_manifest,
)
from ducksets.gateway import Gateway, StorageConfig, open_gateway, open_memory_gateway
from ducksets.pack import pack_version
from ducksets.schema import Column, TableSchema

if TYPE_CHECKING:
    from conftest import CodeintelBuilder

ITEMS = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "VARCHAR")), ("id",))
BOOM_VIEW = "SELECT CASE WHEN i = 50000 THEN error('boom') ELSE i END AS i FROM range(100000) r(i)"


def listing(directory: Path) -> set[str]:
    """Every path under ``directory``, relative, hidden ones included."""
    if not directory.exists():
        return set()
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*")}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count_rows(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    reader = "read_parquet" if path.suffix == ".parquet" else "read_json"
    row = con.execute(f"SELECT count(*) FROM {reader}(?)", [str(path)]).fetchall()
    return int(row[0][0])


@pytest.fixture
def items_gateway() -> Iterator[Gateway]:
    """Two tables (1,000 and 3 rows), a view, filenames for both formats, one failing view."""
    gateway = open_memory_gateway(
        tables={"core.items": ITEMS, "core.small": ITEMS},
        views={"docs.v_items": "SELECT id, upper(label) AS label FROM core.items"},
        jsonl={"core.items": "items.jsonl", "core.small": "small.jsonl"},
        parquet={"core.items": "items.parquet", "docs.v_items": "v_items.parquet"},
    )
    gateway.con.execute("INSERT INTO core.items SELECT i, 'item ' || i FROM range(1000) r(i)")
    gateway.con.execute("INSERT INTO core.small VALUES (1, 'a'), (2, NULL), (3, 'c')")
    with gateway:
        yield gateway


@pytest.fixture
def codeintel_gateway(bootstrap_codeintel: CodeintelBuilder) -> Iterator[Gateway]:
    """The codeintel database (74 tables, 35 views, 4 rows a table), as a gateway."""
    gateway = open_memory_gateway()
    bootstrap_codeintel(gateway.con, rows_per_table=4)
    gateway.refresh()
    with gateway:
        yield gateway


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_exports_exactly_what_the_catalog_lists(
    codeintel_gateway: Gateway, codeintel_catalog: dict[str, Any], tmp_path: Path, fmt: str
) -> None:
    con = codeintel_gateway.con
    filenames = dict(codeintel_catalog[f"{fmt}_filenames"])
    result = export_datasets(codeintel_gateway, tmp_path, fmt)  # type: ignore[arg-type]
    assert result.ok, result.failed
    assert listing(tmp_path) == {*filenames.values(), MANIFEST_NAME}
    assert {f.table_key: f.path.name for f in result.written} == filenames
    for exported in result.written:
        relation_rows = con.execute(f"SELECT count(*) FROM {exported.table_key}").fetchall()
        assert exported.rows == relation_rows[0][0] == count_rows(con, exported.path)

    # A new table and its catalog row, added by SQL alone, is exported on the next run.
    con.execute("CREATE TABLE analytics.fresh AS SELECT range AS n FROM range(7)")
    con.execute(
        "INSERT INTO metadata.datasets VALUES "
        "('analytics.fresh', 'fresh', FALSE, 'fresh.jsonl', 'fresh.parquet')"
    )
    codeintel_gateway.refresh()
    again = export_datasets(codeintel_gateway, tmp_path, fmt)  # type: ignore[arg-type]
    assert listing(tmp_path) == {*filenames.values(), f"fresh.{fmt}", MANIFEST_NAME}
    fresh = next(f for f in again.written if f.dataset_name == "fresh")
    assert (fresh.rows, fresh.columns, fresh.kind) == (7, (("n", "BIGINT"),), "table")
    manifest = read_manifest(tmp_path)
    assert manifest is not None
    assert {e["file"] for e in manifest["datasets"]} == {*filenames.values(), f"fresh.{fmt}"}


def test_adversarial_names_export_and_read_back(tmp_path: Path) -> None:
    odd_table = '"we""ird.s"."t; x é"'
    spaced_view = '"Sp ace"."v.1 ü"'
    output_dir = tmp_path / "out 'dir'; é"
    with open_memory_gateway(
        tables={odd_table: ITEMS},
        views={spaced_view: f"SELECT id * 2 AS id2 FROM {odd_table}"},
        jsonl={odd_table: "o'dd é;.jsonl", spaced_view: '"q" é; x.jsonl'},
        parquet={odd_table: "o'dd é;.parquet", spaced_view: "v 1 ü.parquet"},
        names={odd_table: "naïve 'name'", spaced_view: 'view "one"'},
    ) as gateway:
        con = gateway.con
        con.execute(f"INSERT INTO {odd_table} SELECT i, 'x' || i FROM range(250) r(i)")
        jsonl = export_all_jsonl(gateway, output_dir)
        parquet = export_all_parquet(gateway, output_dir)
        assert jsonl.ok and parquet.ok, (jsonl.failed, parquet.failed)
        assert listing(output_dir) == {
            "o'dd é;.jsonl",
            '"q" é; x.jsonl',
            "o'dd é;.parquet",
            "v 1 ü.parquet",
            MANIFEST_NAME,
        }
        for exported in (*jsonl.written, *parquet.written):
            assert exported.rows == 250 == count_rows(con, exported.path)
        view_file = output_dir / "v 1 ü.parquet"
        total = con.execute("SELECT sum(id2) FROM read_parquet(?)", [str(view_file)]).fetchall()
        assert total == [(2 * sum(range(250)),)]
        first = con.execute(
            "SELECT * FROM read_json(?) LIMIT 1", [str(output_dir / "o'dd é;.jsonl")]
        )
        assert first.fetchall() == [(0, "x0")]


def test_failure_mid_copy_leaves_no_partial_file(tmp_path: Path) -> None:
    with open_memory_gateway(
        tables={"core.items": ITEMS},
        views={"docs.v_boom": BOOM_VIEW},
        jsonl={"core.items": "items.jsonl", "docs.v_boom": "boom.jsonl"},
        parquet={"core.items": "items.parquet", "docs.v_boom": "boom.parquet"},
    ) as gateway:
        gateway.con.execute("INSERT INTO core.items SELECT i, 'x' FROM range(10) r(i)")
        # An earlier, good export of the failing dataset must survive untouched.
        tmp_path.joinpath("boom.parquet").write_bytes(b"the previous export")
        seen: list[ExportedFile | ExportFailure] = []
        for export in (export_all_jsonl, export_all_parquet):
            result = export(gateway, tmp_path, progress=seen.append)
            assert not result.ok
            assert [f.dataset_name for f in result.written] == ["items"]
            (failure,) = result.failed
            assert failure.dataset_name == "v_boom" and "boom" in failure.reason
        assert listing(tmp_path) == {"items.jsonl", "items.parquet", "boom.parquet", MANIFEST_NAME}
        assert tmp_path.joinpath("boom.parquet").read_bytes() == b"the previous export"
        # progress: once per dataset, in order, as each finishes.
        assert [(type(o).__name__, o.dataset_name, o.format) for o in seen] == [
            ("ExportedFile", "items", "jsonl"),
            ("ExportFailure", "v_boom", "jsonl"),
            ("ExportedFile", "items", "parquet"),
            ("ExportFailure", "v_boom", "parquet"),
        ]
        with pytest.raises(DucksetsError, match="'v_boom' to jsonl failed: .*boom"):
            export_dataset_to_jsonl(gateway, "v_boom", tmp_path)
        assert not any(name.startswith(TEMP_PREFIX) for name in listing(tmp_path))


def test_unknown_name_fails_before_anything_is_written(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    tmp_path.joinpath("keep.txt").write_text("untouched")
    before = listing(tmp_path)
    with pytest.raises(UnknownDatasetError, match="no dataset 'itemz'; did you mean 'items'"):
        export_all_jsonl(items_gateway, tmp_path, ["items", "small", "itemz"])
    with pytest.raises(UnknownDatasetError, match="did you mean 'small'"):
        export_dataset_to_parquet(items_gateway, "smal", tmp_path / "new")
    assert listing(tmp_path) == before
    with pytest.raises(KeyError):  # UnknownDatasetError is a KeyError too
        export_all_parquet(items_gateway, tmp_path / "new", ["nope"])
    assert not tmp_path.joinpath("new").exists()


def test_explicit_names_and_the_default_filename(items_gateway: Gateway, tmp_path: Path) -> None:
    # 'small' has no Parquet filename: asked for by name, it gets '<name>.parquet'.
    result = export_all_parquet(items_gateway, tmp_path, ["small", "small", "v_items"])
    assert [(f.dataset_name, f.path.name, f.kind) for f in result.written] == [
        ("small", "small.parquet", "table"),
        ("v_items", "v_items.parquet", "view"),
    ]
    assert result.written[1].columns == (("id", "BIGINT"), ("label", "VARCHAR"))
    one_name = export_all_jsonl(items_gateway, tmp_path / "one", "small")  # a str is one name
    assert [f.dataset_name for f in one_name.written] == ["small"]
    single = export_dataset_to_jsonl(items_gateway, "small", tmp_path)
    assert (single.path, single.rows) == (tmp_path / "small.jsonl", 3)
    lines = single.path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": 1, "label": "a"},
        {"id": 2, "label": None},
        {"id": 3, "label": "c"},
    ]


def test_manifest_is_correct_and_a_rerun_reproduces_it(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    def run() -> tuple[dict[str, Any], dict[str, str]]:
        assert export_all_jsonl(items_gateway, tmp_path).ok
        result = export_all_parquet(items_gateway, tmp_path)
        assert result.ok and result.manifest == tmp_path / MANIFEST_NAME
        manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
        files = {p.name: sha256(p) for p in tmp_path.iterdir() if p.name != MANIFEST_NAME}
        return manifest, files

    first, first_files = run()
    second, second_files = run()
    assert first.pop("written_at") and second.pop("written_at")
    assert first == second
    assert first_files == second_files  # JSONL and Parquet both byte-identical
    assert (first["pack_version"], first["installed_pack_version"]) == (pack_version(),) * 2
    assert first["duckdb_version"] == duckdb.__version__
    # The Parquet run kept the JSONL run's entries.
    assert [(e["file"], e["format"]) for e in first["datasets"]] == [
        ("items.jsonl", "jsonl"),
        ("items.parquet", "parquet"),
        ("small.jsonl", "jsonl"),
        ("v_items.parquet", "parquet"),
    ]
    for entry in first["datasets"]:
        path = tmp_path / entry["file"]
        assert entry["sha256"] == sha256(path)
        assert entry["bytes"] == path.stat().st_size
        assert entry["rows"] == count_rows(items_gateway.con, path)
    items = first["datasets"][0]
    assert items == {
        "name": "items",
        "table_key": "core.items",
        "kind": "table",
        "file": "items.jsonl",
        "format": "jsonl",
        "rows": 1000,
        "bytes": items["bytes"],
        "sha256": items["sha256"],
        "columns": [{"name": "id", "type": "BIGINT"}, {"name": "label", "type": "VARCHAR"}],
    }


def test_without_checksums_the_files_are_the_same_and_sha256_is_null(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    hashed = export_all_jsonl(items_gateway, tmp_path / "hashed")
    plain = export_all_jsonl(items_gateway, tmp_path / "plain", checksums=False)
    assert [f.sha256 for f in plain.written] == [None, None]
    assert [sha256(f.path) for f in plain.written] == [f.sha256 for f in hashed.written]
    assert plain.manifest is not None
    manifest = json.loads(plain.manifest.read_text(encoding="utf-8"))
    assert [e["sha256"] for e in manifest["datasets"]] == [None, None]
    assert [e["bytes"] for e in manifest["datasets"]] == [f.bytes for f in hashed.written]


def test_manifest_drops_entries_whose_file_is_gone_or_changed(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    export_all_jsonl(items_gateway, tmp_path)
    tmp_path.joinpath("small.jsonl").write_text("edited by hand\n")
    result = export_all_parquet(items_gateway, tmp_path)
    assert result.manifest is not None
    manifest = read_manifest(tmp_path)
    assert manifest is not None
    files = [e["file"] for e in manifest["datasets"]]
    assert files == ["items.jsonl", "items.parquet", "v_items.parquet"]
    only_this_run = write_dataset_manifest(
        tmp_path, result.written, gateway=items_gateway, keep_existing=False
    )
    entries = json.loads(only_this_run.read_text(encoding="utf-8"))["datasets"]
    assert [e["file"] for e in entries] == ["items.parquet", "v_items.parquet"]


def test_a_foreign_manifest_is_never_overwritten(items_gateway: Gateway, tmp_path: Path) -> None:
    tmp_path.joinpath(MANIFEST_NAME).write_text('{"mine": true}')
    with pytest.raises(DucksetsError, match="not a ducksets manifest"):
        export_all_jsonl(items_gateway, tmp_path)
    assert listing(tmp_path) == {MANIFEST_NAME}


def test_bad_filenames_in_the_catalog_fail_that_dataset_only(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    output_dir = tmp_path / "deep" / "out"
    escape = tmp_path / "escaped.jsonl"
    con = items_gateway.con
    bad = {
        "up": "../escaped.jsonl",
        "absolute": str(escape),
        "nested": "sub/escaped.jsonl",
        "backslash": "sub\\escaped.jsonl",
        "dotdot": "..",
        "reserved": MANIFEST_NAME,
    }
    for name, filename in bad.items():
        con.execute(f"CREATE TABLE core.{name} AS SELECT 1 AS x")
        # Straight SQL: no Python check on the way in.
        con.execute(
            "INSERT INTO metadata.datasets VALUES (?, ?, FALSE, ?, NULL)",
            [f"core.{name}", name, filename],
        )
    items_gateway.refresh()
    result = export_all_jsonl(items_gateway, output_dir)
    assert [f.dataset_name for f in result.written] == ["items", "small"]
    reasons = {f.dataset_name: f.reason for f in result.failed}
    assert set(reasons) == set(bad)
    for name in bad.keys() - {"reserved"}:
        assert "is not a plain file name" in reasons[name]
        assert "jsonl_filename" in reasons[name]
    assert "reserved" in reasons["reserved"]
    assert listing(tmp_path) == {
        "deep",
        "deep/out",
        "deep/out/items.jsonl",
        "deep/out/small.jsonl",
        f"deep/out/{MANIFEST_NAME}",
    }
    # The pack's macro refuses them too, for SQL users.
    with pytest.raises(duckdb.Error, match="is not a plain file name"):
        con.execute("SELECT metadata.dataset_export_sql('up', fmt := 'jsonl')").fetchall()


def test_two_datasets_claiming_one_file(items_gateway: Gateway, tmp_path: Path) -> None:
    con = items_gateway.con
    con.execute("UPDATE metadata.datasets SET jsonl_filename = 'items.jsonl' WHERE name = 'small'")
    items_gateway.refresh()
    result = export_all_jsonl(items_gateway, tmp_path)
    assert [f.dataset_name for f in result.written] == ["items"]
    (failure,) = result.failed
    assert failure.dataset_name == "small"
    assert "also the jsonl file of dataset 'items'" in failure.reason
    assert result.written[0].rows == count_rows(con, tmp_path / "items.jsonl") == 1000


def test_read_only_gateway_exports(db_path: Path, tmp_path: Path) -> None:
    config = StorageConfig(
        db_path, tables={"core.items": ITEMS}, parquet={"core.items": "items.parquet"}
    )
    with open_gateway(config) as gateway:
        gateway.con.execute("INSERT INTO core.items VALUES (1, 'one')")
    before = db_path.read_bytes()
    with open_gateway(StorageConfig(db_path, read_only=True)) as gateway:
        result = export_all_parquet(gateway, tmp_path / "out")
    assert result.ok and [f.rows for f in result.written] == [1]
    assert db_path.read_bytes() == before


def test_empty_relation_gives_an_empty_file(items_gateway: Gateway, tmp_path: Path) -> None:
    items_gateway.con.execute("DELETE FROM core.small")
    exported = export_dataset_to_jsonl(items_gateway, "small", tmp_path)
    assert (exported.rows, exported.bytes, exported.path.read_bytes()) == (0, 0, b"")
    assert exported.sha256 == hashlib.sha256(b"").hexdigest()


def test_result_reprs(items_gateway: Gateway, tmp_path: Path) -> None:
    items_gateway.con.execute(f"CREATE VIEW docs.v_boom AS {BOOM_VIEW}")
    items_gateway.con.execute(
        "INSERT INTO metadata.datasets VALUES ('docs.v_boom', 'v <boom>', TRUE, 'b.jsonl', NULL)"
    )
    items_gateway.refresh()
    result = export_all_jsonl(items_gateway, tmp_path)
    assert isinstance(result, ExportResult) and not result.ok
    text = repr(result)
    assert text.startswith("<ExportResult: 2 written, 1 failed; manifest ")
    assert "items: items.jsonl (1000 rows)" in text and "v <boom>: FAILED" in text
    html = result._repr_html_()
    assert html.startswith("<table><caption>export: 2 written, 1 failed</caption>")
    assert "<td>v &lt;boom&gt;</td><td>jsonl</td><td>failed</td>" in html
    assert "<boom>" not in html
    assert "1000 rows" in repr(result.written[0])
    assert "boom" in repr(result.failed[0])


def test_unknown_format_is_refused(items_gateway: Gateway, tmp_path: Path) -> None:
    with pytest.raises(DucksetsError, match="unknown export format 'csv'"):
        export_datasets(items_gateway, tmp_path, "csv")  # type: ignore[arg-type]
    assert listing(tmp_path) == set()
