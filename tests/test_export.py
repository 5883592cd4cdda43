"""Catalog-driven exports: what the catalog lists is written, whole or not at all."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ducksets.catalog import bootstrap_metadata_datasets, register_dataset
from ducksets.errors import (
    ArgumentTypeError,
    DucksetsError,
    ExportError,
    GatewayClosedError,
    InvalidArgumentError,
    InvalidFilenameError,
    UnknownDatasetError,
)
from ducksets.export import (
    LOCK_NAME,
    MANIFEST_NAME,
    TEMP_PREFIX,
    ExportedFile,
    ExportFailure,
    ExportOutcome,
    ExportResult,
    export_all_jsonl,
    export_all_parquet,
    export_dataset_to_jsonl,
    export_dataset_to_parquet,
    export_datasets,
    read_manifest,
    write_dataset_manifest,
)
from ducksets.filenames import check_dataset_name, check_filename
from ducksets.gateway import Gateway, StorageConfig, open_gateway, open_memory_gateway
from ducksets.keys import parse_table_key
from ducksets.manifest import manifest_entries
from ducksets.pack import install_macros, pack_version
from ducksets.schema import Column, TableSchema
from ducksets.sqltext import qualified_name, quote_literal

if TYPE_CHECKING:
    from conftest import CodeintelBuilder

BIN = Path(sys.executable).parent
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
    assert listing(tmp_path) == {*filenames.values(), MANIFEST_NAME, LOCK_NAME}
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
    assert listing(tmp_path) == {*filenames.values(), f"fresh.{fmt}", MANIFEST_NAME, LOCK_NAME}
    fresh = next(f for f in again.written if f.dataset_name == "fresh")
    assert (fresh.rows, fresh.columns, fresh.kind) == (7, (("n", "BIGINT"),), "table")
    assert read_manifest(tmp_path) is not None
    entries = manifest_entries(tmp_path)
    assert {e["file"] for e in entries} == {*filenames.values(), f"fresh.{fmt}"}


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
            LOCK_NAME,
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
        views={"docs.v_boom": "SELECT 1 AS i"},
        jsonl={"core.items": "items.jsonl", "docs.v_boom": "boom.jsonl"},
        parquet={"core.items": "items.parquet", "docs.v_boom": "boom.parquet"},
    ) as gateway:
        gateway.con.execute("INSERT INTO core.items SELECT i, 'x' FROM range(10) r(i)")
        # An earlier, good export of the failing dataset must survive untouched.
        export_dataset_to_parquet(gateway, "v_boom", tmp_path)
        previous = tmp_path.joinpath("boom.parquet").read_bytes()
        gateway.con.execute(f"CREATE OR REPLACE VIEW docs.v_boom AS {BOOM_VIEW}")
        seen: list[ExportedFile | ExportFailure] = []
        for export in (export_all_jsonl, export_all_parquet):
            result = export(gateway, tmp_path, progress=seen.append)
            assert not result.ok
            assert [f.dataset_name for f in result.written] == ["items"]
            (failure,) = result.failed
            assert failure.dataset_name == "v_boom" and "boom" in failure.reason
        assert listing(tmp_path) == {
            "items.jsonl",
            "items.parquet",
            "boom.parquet",
            MANIFEST_NAME,
            LOCK_NAME,
        }
        assert tmp_path.joinpath("boom.parquet").read_bytes() == previous
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
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first.pop("created"))
    assert second.pop("created")
    # mtime_ns tells a rewritten file from the one listed: it differs between runs.
    for resource in (*first["resources"], *second["resources"]):
        assert isinstance(resource.pop("ducksets:mtimeNs"), int)
    assert first == second
    assert first_files == second_files  # JSONL and Parquet both byte-identical
    assert first["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert (first["name"], first["ducksets:format"]) == ("ducksets-export", 2)
    versions = (first["ducksets:packVersion"], first["ducksets:installedPackVersion"])
    assert versions == (pack_version(),) * 2
    assert first["ducksets:duckdbVersion"] == duckdb.__version__
    # The Parquet run kept the JSONL run's entries.
    assert [(r["name"], r["path"], r["format"]) for r in first["resources"]] == [
        ("items-jsonl", "items.jsonl", "jsonl"),
        ("items-parquet", "items.parquet", "parquet"),
        ("small-jsonl", "small.jsonl", "jsonl"),
        ("v_items-parquet", "v_items.parquet", "parquet"),
    ]
    for resource in first["resources"]:
        path = tmp_path / resource["path"]
        prefix = "ducksets:" if resource["format"] == "parquet" else ""
        assert resource[f"{prefix}hash"] == f"sha256:{sha256(path)}"
        assert resource[f"{prefix}bytes"] == path.stat().st_size
        assert resource["rows"] == count_rows(items_gateway.con, path)
    items = first["resources"][0]
    assert items == {
        "name": "items-jsonl",
        "path": "items.jsonl",
        "format": "jsonl",
        "mediatype": "application/jsonl",
        "rows": 1000,
        "bytes": items["bytes"],
        "hash": items["hash"],
        "title": "items",
        "ducksets:dataset": "items",
        "ducksets:tableKey": "core.items",
        "ducksets:kind": "table",
        "schema": {
            "fields": [
                {"name": "id", "type": "integer", "ducksets:duckdbType": "BIGINT"},
                {"name": "label", "type": "string", "ducksets:duckdbType": "VARCHAR"},
            ]
        },
    }
    parquet_id = first["resources"][1]["schema"]["fields"][0]
    assert parquet_id["missingValues"] == ["", "nan"]  # pandas reads an int column's NULL as nan


def test_without_checksums_the_files_are_the_same_and_sha256_is_null(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    hashed = export_all_jsonl(items_gateway, tmp_path / "hashed")
    plain = export_all_jsonl(items_gateway, tmp_path / "plain", checksums=False)
    assert [f.sha256 for f in plain.written] == [None, None]
    assert [sha256(f.path) for f in plain.written] == [f.sha256 for f in hashed.written]
    assert plain.manifest is not None
    manifest = json.loads(plain.manifest.read_text(encoding="utf-8"))
    assert ["hash" in r or "ducksets:hash" in r for r in manifest["resources"]] == [False, False]
    assert [r["bytes"] for r in manifest["resources"]] == [f.bytes for f in hashed.written]


def test_manifest_drops_entries_whose_file_is_gone_or_changed(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    export_all_jsonl(items_gateway, tmp_path)
    tmp_path.joinpath("small.jsonl").write_text("edited by hand\n")
    result = export_all_parquet(items_gateway, tmp_path)
    assert result.manifest is not None
    files = [e["file"] for e in manifest_entries(tmp_path)]
    assert files == ["items.jsonl", "items.parquet", "v_items.parquet"]
    only_this_run = write_dataset_manifest(
        tmp_path, result.written, gateway=items_gateway, keep_existing=False
    )
    resources = json.loads(only_this_run.read_text(encoding="utf-8"))["resources"]
    assert [r["path"] for r in resources] == ["items.parquet", "v_items.parquet"]


def test_a_manifest_lists_only_files_beside_it(items_gateway: Gateway, tmp_path: Path) -> None:
    result = export_all_jsonl(items_gateway, tmp_path / "out")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(InvalidArgumentError, match="is not in .*elsewhere") as raised:
        write_dataset_manifest(elsewhere, result.written, gateway=items_gateway)
    assert (raised.value.parameter, raised.value.value) == ("files", result.written[0].path)
    assert listing(elsewhere) == set()


def test_a_foreign_manifest_is_never_overwritten(items_gateway: Gateway, tmp_path: Path) -> None:
    foreign = '{"name": "theirs", "resources": [{"name": "x", "path": "items.jsonl"}]}'
    tmp_path.joinpath(MANIFEST_NAME).write_text(foreign)
    with pytest.raises(ExportError, match="not a data package ducksets wrote.*move it away"):
        export_all_jsonl(items_gateway, tmp_path)
    assert listing(tmp_path) == {MANIFEST_NAME}
    assert tmp_path.joinpath(MANIFEST_NAME).read_text() == foreign


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
        f"deep/out/{LOCK_NAME}",
    }
    # The pack's macro refuses them too, for SQL users.
    with pytest.raises(duckdb.Error, match="is not a plain file name"):
        con.execute("SELECT metadata.dataset_export_sql('up', fmt := 'jsonl')").fetchall()


def test_two_datasets_claiming_one_file(items_gateway: Gateway, tmp_path: Path) -> None:
    con = items_gateway.con
    con.execute("UPDATE metadata.datasets SET jsonl_filename = 'items.jsonl' WHERE name = 'small'")
    with pytest.raises(InvalidFilenameError, match="'items' .* and 'small' .* 'items.jsonl'"):
        export_all_jsonl(items_gateway, tmp_path)
    assert listing(tmp_path) == set()


def test_two_datasets_claiming_one_file_across_formats(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    # A's jsonl_filename is B's parquet_filename: one run of both formats is refused whole.
    con = items_gateway.con
    con.execute(
        "UPDATE metadata.datasets SET jsonl_filename = 'V_items.parquet' WHERE name = 'small'"
    )
    with pytest.raises(InvalidFilenameError) as refused:
        export_datasets(items_gateway, tmp_path, ("jsonl", "parquet"))
    message = str(refused.value)
    assert "'small' (jsonl)" in message and "'v_items' (parquet)" in message
    assert refused.value.filename in {"V_items.parquet", "v_items.parquet"}
    assert listing(tmp_path) == set()
    # One format at a time there is no clash.
    assert export_datasets(items_gateway, tmp_path, "jsonl").ok


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


# --- issue 9: nothing lost, nothing written outside what was asked, only verified SQL ---


def file_database(tmp_path: Path) -> Gateway:
    """A writable gateway on ``prod.duckdb`` with core.items (2 rows), JSONL and Parquet names."""
    config = StorageConfig(
        tmp_path / "prod.duckdb",
        tables={"core.items": ITEMS},
        jsonl={"core.items": "items.jsonl"},
        parquet={"core.items": "items.parquet"},
    )
    gateway = open_gateway(config)
    gateway.con.execute("INSERT INTO core.items VALUES (1, 'one'), (2, 'two')")
    return gateway


def snapshot(directory: Path) -> dict[str, bytes | None]:
    """Every path under ``directory`` with the bytes of each regular file."""
    return {
        p.relative_to(directory).as_posix(): (
            p.read_bytes() if p.is_file() and not p.is_symlink() else None
        )
        for p in directory.rglob("*")
    }


@pytest.mark.parametrize(
    "filename", ["prod.duckdb", "prod.duckdb.wal", "PROD.duckdb", "side.duckdb", "side.duckdb.wal"]
)
def test_an_export_never_overwrites_a_database_or_its_wal(tmp_path: Path, filename: str) -> None:
    duckdb.connect(str(tmp_path / "side.duckdb")).close()
    with file_database(tmp_path) as gateway:
        gateway.con.execute(f"ATTACH '{tmp_path / 'side.duckdb'}' AS side")
        gateway.con.execute(
            "UPDATE metadata.datasets SET parquet_filename = ? WHERE name = 'items'", [filename]
        )
        gateway.con.execute("CHECKPOINT")
        before = snapshot(tmp_path)
        with pytest.raises(InvalidFilenameError, match="dataset 'items' \\(parquet\\)") as refused:
            export_datasets(gateway, tmp_path, ("jsonl", "parquet"))
        assert refused.value.filename == filename
        assert filename in str(refused.value) and "nothing was exported" in str(refused.value)
        assert snapshot(tmp_path) == before  # not even the JSONL file of the same run
        assert gateway.con.execute("SELECT count(*) FROM core.items").fetchall() == [(2,)]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("symlink to the database", "is an attached database"),
        ("hard link to the database", "is an attached database"),
        ("symlink to the wal", "is the write-ahead log of an attached database"),
        ("symlink elsewhere", "is a symbolic link"),
        (
            "foreign file",
            "exists and is not listed in this directory's datapackage.json (not a ducksets file)",
        ),
        ("directory", "is a directory or other non-file"),
    ],
)
def test_each_refused_target_says_what_it_is(tmp_path: Path, kind: str, reason: str) -> None:
    out = tmp_path / "out"
    with file_database(tmp_path) as gateway:
        assert export_datasets(gateway, out, "parquet").ok  # items.parquet is listed now
        (out / "items.parquet").unlink()
        target = out / "items.parquet"
        database = tmp_path / "prod.duckdb"
        if kind == "symlink to the database":
            target.symlink_to(database)
        elif kind == "hard link to the database":
            os.link(database, target)
        elif kind == "symlink to the wal":
            target.symlink_to(tmp_path / "prod.duckdb.wal")  # it need not exist
        elif kind == "symlink elsewhere":
            target.symlink_to(tmp_path / "nowhere")
        elif kind == "foreign file":
            (out / "datapackage.json").unlink()  # items.parquet is listed no more
            target.write_bytes(b"mine")
        else:
            target.mkdir()
        with pytest.raises(InvalidFilenameError, match="dataset 'items' \\(parquet\\)") as refused:
            export_datasets(gateway, out, "parquet")
    assert f"which {reason};" in str(refused.value)


def test_the_cli_refuses_to_export_over_its_database(tmp_path: Path) -> None:
    with file_database(tmp_path) as gateway:
        gateway.con.execute("UPDATE metadata.datasets SET parquet_filename = 'prod.duckdb'")
    before = snapshot(tmp_path)
    done = subprocess.run(
        [str(BIN / "ducksets"), "export", "prod.duckdb", "--file-format", "both", "--out", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("ducksets export: dataset 'items' (parquet) would overwrite")
    assert snapshot(tmp_path) == before


def test_the_cli_exports_both_formats_in_one_checked_run(tmp_path: Path) -> None:
    with file_database(tmp_path) as gateway:
        gateway.con.execute("CREATE TABLE core.other AS SELECT 1 AS x")
        gateway.con.execute(
            "INSERT INTO metadata.datasets VALUES "
            "('core.other', 'other', FALSE, NULL, 'items.jsonl')"
        )
    db = tmp_path / "prod.duckdb"
    out = tmp_path / "out"
    command = [str(BIN / "ducksets"), "export", str(db), "--file-format", "both", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "'items' (jsonl) and 'other' (parquet) both claim the file 'items.jsonl'" in line
    assert not out.exists()
    with duckdb.connect(str(db)) as con:
        con.execute(
            "UPDATE metadata.datasets SET parquet_filename = 'other.parquet' WHERE name = 'other'"
        )
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(f["name"], f["format"]) for f in report["written"]] == [
        ("items", "jsonl"),
        ("items", "parquet"),
        ("other", "parquet"),
    ]
    for written, entry in zip(report["written"], manifest_entries(out), strict=True):
        assert written == {**entry, "file": str(out / entry["file"])}


@pytest.mark.parametrize("kind", ["foreign file", "symlink", "directory", "listed elsewhere"])
def test_a_target_that_is_not_a_ducksets_file_refuses_the_run(
    items_gateway: Gateway, tmp_path: Path, kind: str
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    if kind == "foreign file":
        (out / "small.jsonl").write_text("my own notes\n")
    elif kind == "symlink":
        (out / "small.jsonl").symlink_to(outside)
    elif kind == "directory":
        (out / "small.jsonl").mkdir()
    else:  # listed in another directory's manifest only
        assert export_all_jsonl(items_gateway, tmp_path / "elsewhere").ok
        (out / "small.jsonl").write_text("my own notes\n")
    before = snapshot(tmp_path)
    with pytest.raises(InvalidFilenameError, match="dataset 'small' \\(jsonl\\)"):
        export_all_jsonl(items_gateway, out)
    assert snapshot(tmp_path) == before
    assert outside.read_text() == "precious"


def test_our_own_earlier_files_are_replaced(items_gateway: Gateway, tmp_path: Path) -> None:
    assert export_all_jsonl(items_gateway, tmp_path).ok
    items_gateway.con.execute("DELETE FROM core.small WHERE id = 1")
    again = export_all_jsonl(items_gateway, tmp_path)
    assert again.ok and [f.rows for f in again.written] == [1000, 2]


@pytest.mark.parametrize(
    "filename",
    [MANIFEST_NAME, "DataPackage.JSON", "Manifest.JSON", LOCK_NAME, f"{TEMP_PREFIX}x.parquet"],
)
def test_registration_refuses_names_the_export_always_refuses(
    items_gateway: Gateway, filename: str
) -> None:
    con = items_gateway.con
    before = con.execute("FROM metadata.datasets ORDER BY name").fetchall()
    with pytest.raises(InvalidFilenameError, match="reserved") as refused:
        register_dataset(con, "core.small", parquet_filename=filename)
    assert refused.value.filename == filename
    with pytest.raises(InvalidFilenameError, match="reserved"):
        bootstrap_metadata_datasets(
            con, tables={"core.small": ITEMS}, jsonl={"core.small": filename}
        )
    assert con.execute("FROM metadata.datasets ORDER BY name").fetchall() == before
    with pytest.raises(InvalidFilenameError):
        check_filename(filename)


def test_filename_checks_live_in_one_module() -> None:
    from ducksets import catalog

    assert vars(catalog)["check_filename"] is check_filename
    assert vars(catalog)["check_dataset_name"] is check_dataset_name
    assert check_dataset_name("naïve 'name'") == "naïve 'name'"
    for bad in ("..", "a/b", f"{TEMP_PREFIX}x"):
        with pytest.raises(InvalidFilenameError) as refused:
            check_dataset_name(bad)
        assert refused.value.filename == bad


TAMPERED = {
    "another path": "'COPY (SELECT 42 AS x) TO ' || metadata.quote_literal({elsewhere}) "
    "|| ' (FORMAT JSON)'",
    "two statements": '\'COPY (SELECT * FROM "core"."items") TO \' '
    "|| metadata.quote_literal(output_dir || '/items.jsonl') "
    "|| ' (FORMAT JSON); CREATE TABLE main.pwned AS SELECT 1 AS x'",
}


@pytest.mark.parametrize("tampering", sorted(TAMPERED))
def test_a_tampered_export_sql_is_never_run(
    items_gateway: Gateway, tmp_path: Path, tampering: str
) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    body = TAMPERED[tampering].format(elsewhere=f"'{elsewhere}'")
    con = items_gateway.con
    con.execute(
        "CREATE OR REPLACE MACRO metadata.dataset_export_sql("
        f"ds_name, fmt := 'parquet', output_dir := '.') AS ({body})"
    )
    out = tmp_path / "out"
    result = export_all_jsonl(items_gateway, out)
    assert result.written == () and result.manifest is None
    assert [f.dataset_name for f in result.failed] == ["items", "small"]
    for failure in result.failed:
        assert "metadata.dataset_export_sql" in failure.reason
        assert "ducksets install DB" in failure.reason
    assert not elsewhere.exists()
    assert listing(out) <= {LOCK_NAME}
    pwned = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'pwned'"
    assert con.execute(pwned).fetchall() == [(0,)]
    with pytest.raises(ExportError, match="ducksets install DB"):
        export_dataset_to_parquet(items_gateway, "items", out)


def test_dead_staging_is_removed_and_live_staging_kept(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    dead = tmp_path / f"{TEMP_PREFIX}dead"
    (dead / "files").mkdir(parents=True)
    (dead / ".lock").write_bytes(b"")
    (dead / "files" / "items.jsonl").write_bytes(b'{"id": 1, "la')  # cut short by kill -9
    half_made = tmp_path / f"{TEMP_PREFIX}half-made"  # killed before its lock existed
    half_made.mkdir()
    live = tmp_path / f"{TEMP_PREFIX}live"
    live.mkdir()
    with (live / ".lock").open("wb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert export_all_jsonl(items_gateway, tmp_path).ok
        assert live.is_dir() and not dead.exists() and not half_made.exists()
    assert export_all_jsonl(items_gateway, tmp_path).ok  # its owner let go: now removed
    assert not any(name.startswith(TEMP_PREFIX) for name in listing(tmp_path))


@pytest.mark.parametrize("journal", ["0.7", "0.6"])
def test_a_publish_cut_short_is_rolled_back(
    items_gateway: Gateway, tmp_path: Path, journal: str
) -> None:
    assert export_all_jsonl(items_gateway, tmp_path, ["items"]).ok
    published = snapshot(tmp_path)
    # A run killed after replacing items.jsonl, before publishing its manifest:
    # the journal lists the targets, old/ holds the replaced file, files/ lacks the moved one.
    crashed = tmp_path / f"{TEMP_PREFIX}crashed"
    for sub in ("files", "old"):
        (crashed / sub).mkdir(parents=True)
    (crashed / ".lock").write_bytes(b"")
    # ducksets 0.6 journaled a list and staged manifest.json; 0.7 names what it removes too.
    staged = MANIFEST_NAME if journal == "0.7" else "manifest.json"
    targets = ["items.jsonl", "small.jsonl", staged]
    record: object = {"publish": targets, "remove": []} if journal == "0.7" else targets
    (crashed / "publish.json").write_text(json.dumps(record))
    (crashed / "old" / "items.jsonl").hardlink_to(tmp_path / "items.jsonl")
    (tmp_path / "items.jsonl.new").write_text('{"id": 99}\n')
    (tmp_path / "items.jsonl.new").replace(tmp_path / "items.jsonl")
    (tmp_path / "small.jsonl").write_text('{"id": 98}\n')  # new in that run
    (crashed / staged).write_text("{}")
    assert export_all_parquet(items_gateway, tmp_path, ["v_items"]).ok
    now = snapshot(tmp_path)
    assert {k: v for k, v in now.items() if k != MANIFEST_NAME and k != "v_items.parquet"} == {
        k: v for k, v in published.items() if k != MANIFEST_NAME
    }
    entries = manifest_entries(tmp_path)
    for entry in entries:
        assert entry["sha256"] == sha256(tmp_path / entry["file"])
    assert [e["file"] for e in entries] == ["items.jsonl", "v_items.parquet"]


def test_a_kept_entry_must_match_its_file_byte_for_byte(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    assert export_all_jsonl(items_gateway, tmp_path).ok
    small = tmp_path / "small.jsonl"
    items = tmp_path / "items.jsonl"
    content = small.read_bytes()
    small.write_bytes(content.replace(b'"a"', b'"z"'))  # same size, other bytes
    status = small.stat()
    os.utime(small, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000))
    status = items.stat()
    os.utime(items, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000))  # touched only
    assert export_all_parquet(items_gateway, tmp_path).ok
    entries = {e["file"]: e for e in manifest_entries(tmp_path)}
    assert sorted(entries) == ["items.jsonl", "items.parquet", "v_items.parquet"]
    assert entries["items.jsonl"]["mtime_ns"] == items.stat().st_mtime_ns  # re-hashed, kept


def test_a_single_dataset_export_updates_its_manifest_entry(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    assert export_all_jsonl(items_gateway, tmp_path).ok
    items_gateway.con.execute("UPDATE core.small SET label = 'b' WHERE id = 1")  # same size
    single = export_dataset_to_jsonl(items_gateway, "small", tmp_path)
    assert export_all_parquet(items_gateway, tmp_path, ["items"]).ok
    entries = {e["file"]: e for e in manifest_entries(tmp_path)}
    assert entries["small.jsonl"] == single.to_dict()
    assert entries["small.jsonl"]["sha256"] == sha256(tmp_path / "small.jsonl")
    assert sorted(entries) == ["items.jsonl", "items.parquet", "small.jsonl"]


def test_a_catalog_row_added_after_the_gateway_opened_is_exported(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    con = items_gateway.con
    con.execute("CREATE TABLE core.fresh AS SELECT range AS n FROM range(7)")
    con.execute(
        "INSERT INTO metadata.datasets VALUES ('core.fresh', 'fresh', FALSE, 'fresh.jsonl', NULL)"
    )
    single = export_dataset_to_jsonl(items_gateway, "fresh", tmp_path)  # no refresh()
    assert single.rows == 7
    everything = export_all_jsonl(items_gateway, tmp_path / "all")
    assert [f.dataset_name for f in everything.written] == ["fresh", "items", "small"]


def test_threads_sharing_a_gateway_lose_no_manifest_entry(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    con = items_gateway.con
    names = [f"t{i}" for i in range(8)]
    for name in names:
        con.execute(f"CREATE TABLE core.{name} AS SELECT range AS n FROM range(100)")
        con.execute(
            "INSERT INTO metadata.datasets VALUES (?, ?, FALSE, ?, NULL)",
            [f"core.{name}", name, f"{name}.jsonl"],
        )
    with ThreadPoolExecutor(max_workers=8) as pool:
        done = list(pool.map(lambda n: export_dataset_to_jsonl(items_gateway, n, tmp_path), names))
    assert [f.rows for f in done] == [100] * 8
    assert [e["file"] for e in manifest_entries(tmp_path)] == [f"{n}.jsonl" for n in names]


def test_a_run_with_nothing_to_write_touches_nothing(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    items_gateway.con.execute("UPDATE metadata.datasets SET jsonl_filename = '../x.jsonl'")
    result = export_all_jsonl(items_gateway, tmp_path / "out")
    assert result.written == () and len(result.failed) == 3
    assert export_all_jsonl(items_gateway, tmp_path / "out", []).failed == ()
    assert not (tmp_path / "out").exists()


def test_bad_arguments_give_one_typed_error(
    items_gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # an empty output_dir must not mean the working directory
    out = tmp_path / "out"
    cases: list[tuple[type[Exception], str, Any]] = [
        (ArgumentTypeError, "gateway", lambda: export_all_jsonl(None, out)),  # type: ignore[arg-type]
        (ArgumentTypeError, "name", lambda: export_dataset_to_jsonl(items_gateway, None, out)),  # type: ignore[arg-type]
        (InvalidArgumentError, "name", lambda: export_dataset_to_jsonl(items_gateway, " ", out)),
        (ArgumentTypeError, "output_dir", lambda: export_all_jsonl(items_gateway, None)),  # type: ignore[arg-type]
        (InvalidArgumentError, "output_dir", lambda: export_all_jsonl(items_gateway, "")),
        (InvalidArgumentError, "fmt", lambda: export_datasets(items_gateway, out, "csv")),  # type: ignore[arg-type]
        (InvalidArgumentError, "fmt", lambda: export_datasets(items_gateway, out, ())),
        (ArgumentTypeError, "fmt", lambda: export_datasets(items_gateway, out, None)),  # type: ignore[arg-type]
        (ArgumentTypeError, "datasets", lambda: export_all_jsonl(items_gateway, out, [1])),  # type: ignore[list-item]
        (ArgumentTypeError, "checksums", lambda: export_all_jsonl(items_gateway, out, checksums=1)),  # type: ignore[arg-type]
        (ArgumentTypeError, "progress", lambda: export_all_jsonl(items_gateway, out, progress=1)),  # type: ignore[arg-type]
        (
            ArgumentTypeError,
            "files",
            lambda: write_dataset_manifest(out, None, gateway=items_gateway),  # type: ignore[arg-type]
        ),
    ]
    for error, parameter, call in cases:
        with pytest.raises(error) as raised:
            call()
        assert raised.value.parameter == parameter  # type: ignore[attr-defined]
    assert listing(tmp_path) == set()


PACK_CON = duckdb.connect()
install_macros(PACK_CON)
KEY_PART = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), min_size=1, max_size=8
)
FILE_NAME = st.text(
    st.characters(blacklist_characters="\x00/\\", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=8,
).filter(lambda name: name.strip() not in {"", ".", ".."})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(KEY_PART, min_size=2, max_size=3), filename=FILE_NAME)
def test_the_verified_copy_is_what_the_pack_builds_for_any_key(
    parts: list[str], filename: str
) -> None:
    # The exporter refuses any statement but the one it rebuilds itself: for every
    # valid key and file name, the pack's macro and the Python rebuild must agree.
    con = PACK_CON
    key_text = qualified_name(*parts)
    con.execute("DELETE FROM metadata.datasets")
    con.execute(
        "INSERT INTO metadata.datasets VALUES (?, 'n', FALSE, ?, NULL)", [key_text, filename]
    )
    built = con.execute(
        "SELECT metadata.dataset_export_sql('n', fmt := 'jsonl', output_dir := '/st ''aged')"
    ).fetchall()
    expected = (
        f"COPY (SELECT * FROM {parse_table_key(key_text).sql()}) "
        f"TO {quote_literal(f'/st {chr(39)}aged/{filename}')} (FORMAT JSON)"
    )
    assert built == [(expected,)]


def test_exporting_through_a_closed_gateway_is_one_typed_error(tmp_path: Path) -> None:
    gateway = open_memory_gateway(views={"main.nums": "SELECT range AS n FROM range(5)"})
    gateway.close()
    with pytest.raises(GatewayClosedError, match="closed"):
        export_all_jsonl(gateway, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_only_ducksets_own_prefixed_files_are_cleaned(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    legacy = tmp_path / f"{TEMP_PREFIX}0123456789abcdef.json"  # an earlier version's manifest temp
    legacy.write_text("{")
    mine = tmp_path / f"{TEMP_PREFIX}mine.json"
    mine.write_text("mine\n")
    linked = tmp_path / f"{TEMP_PREFIX}fedcba9876543210.json"
    linked.symlink_to(mine)
    assert export_all_jsonl(items_gateway, tmp_path).ok
    assert not legacy.exists()
    assert mine.read_text() == "mine\n" and linked.is_symlink()


def test_an_unknown_name_carries_its_close_names(items_gateway: Gateway, tmp_path: Path) -> None:
    with pytest.raises(UnknownDatasetError, match="did you mean 'items'") as caught:
        export_all_jsonl(items_gateway, tmp_path / "out", ["itemz"])
    assert (caught.value.name, caught.value.suggestions) == ("itemz", ("items", "v_items"))
    with pytest.raises(UnknownDatasetError) as caught:
        items_gateway.datasets.resolve("itemz")
    assert caught.value.suggestions == ("items", "v_items")


def test_a_dataset_the_macro_refuses_fails_alone_in_order(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    # An invalid key makes dataset_export_sql raise: the statements of the run
    # are asked for in one query, so the others must still get theirs.
    items_gateway.con.execute(
        "INSERT INTO metadata.datasets VALUES ('not a key', 'broken', FALSE, 'broken.jsonl', NULL)"
    )
    seen: list[ExportOutcome] = []
    result = export_all_jsonl(items_gateway, tmp_path, progress=seen.append)
    assert [(o.dataset_name, type(o).__name__) for o in seen] == [
        ("broken", "ExportFailure"),
        ("items", "ExportedFile"),
        ("small", "ExportedFile"),
    ]
    assert [f.dataset_name for f in result.failed] == ["broken"]
    for exported in result.written:
        assert exported.sha256 == sha256(exported.path)
        assert exported.bytes == exported.path.stat().st_size
    assert listing(tmp_path) == {"items.jsonl", "small.jsonl", "datapackage.json", ".ducksets.lock"}


def test_a_run_exports_one_snapshot_while_other_connections_drop_tables(tmp_path: Path) -> None:
    """Every key is checked and every COPY runs in the run's one transaction: a table
    dropped by another connection mid-run is still exported as the run first saw it."""
    keys = ["core.a", "core.b", "core.c"]
    with open_memory_gateway(
        tables=dict.fromkeys(keys, ITEMS), parquet={k: f"{k}.parquet" for k in keys}
    ) as gateway:
        for n, key in enumerate(keys):
            gateway.con.execute(f"INSERT INTO {key} SELECT i, 'x' FROM range({n + 1}) r(i)")

        def drop_c(outcome: ExportOutcome) -> None:
            if outcome.dataset_name == "a":  # reported once b is staged: c is still to come
                gateway.con.execute("DROP TABLE core.c")

        result = export_datasets(gateway, tmp_path / "out", "parquet", progress=drop_c)
        assert result.ok, result.failed
        assert [(f.dataset_name, f.rows) for f in result.written] == [("a", 1), ("b", 2), ("c", 3)]
        assert count_rows(gateway.con, tmp_path / "out" / "core.c.parquet") == 3
        assert gateway.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'c'"
        ).fetchall() == [(0,)]


def test_after_a_failing_copy_the_rest_of_the_run_is_exported(tmp_path: Path) -> None:
    """A COPY that fails aborts the run's transaction; the next datasets still export,
    with their columns as DuckDB binds them (tables and views alike)."""
    with open_memory_gateway(
        tables={"core.items": ITEMS, "core.more": ITEMS},
        views={
            "core.a_boom": BOOM_VIEW,
            "core.v_more": "SELECT id, label || '!' AS x FROM core.more",
        },
        jsonl={"core.a_boom": "a.jsonl", "core.items": "i.jsonl", "core.more": "m.jsonl"},
        parquet={"core.v_more": "v.parquet"},
    ) as gateway:
        gateway.con.execute("INSERT INTO core.items VALUES (1, 'one')")
        gateway.con.execute("INSERT INTO core.more VALUES (2, 'two')")
        result = export_datasets(gateway, tmp_path, ["jsonl", "parquet"])
        assert [f.dataset_name for f in result.failed] == ["a_boom"]
        assert "boom" in result.failed[0].reason
        written = {f.dataset_name: (f.rows, f.columns, f.kind) for f in result.written}
        assert written == {
            "items": (1, (("id", "BIGINT"), ("label", "VARCHAR")), "table"),
            "more": (1, (("id", "BIGINT"), ("label", "VARCHAR")), "table"),
            "v_more": (1, (("id", "BIGINT"), ("x", "VARCHAR")), "view"),
        }
        for exported in result.written:
            assert exported.sha256 == sha256(exported.path)


def test_the_manifest_lists_one_file_a_line(items_gateway: Gateway, tmp_path: Path) -> None:
    """Readable and diff-friendly: each file's entry is one line of the manifest."""
    result = export_datasets(items_gateway, tmp_path, ["jsonl", "parquet"])
    text = (tmp_path / MANIFEST_NAME).read_text(encoding="utf-8")
    entries = [json.loads(line.rstrip(",")) for line in text.splitlines() if '"path": ' in line]
    assert entries == json.loads(text)["resources"]
    assert sorted(e["path"] for e in entries) == sorted(f.path.name for f in result.written)
