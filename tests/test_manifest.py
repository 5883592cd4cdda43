"""The manifest is a Frictionless Data Package: its document, the legacy migration, and
real exports checked by the real ``frictionless`` library."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import frictionless
import pytest

from ducksets._datapackage import document_entries, field_type
from ducksets.catalog import register_dataset
from ducksets.errors import ExportError, InvalidFilenameError
from ducksets.export import (
    LOCK_NAME,
    MANIFEST_NAME,
    TEMP_PREFIX,
    ExportOutcome,
    export_all_jsonl,
    export_all_parquet,
    export_datasets,
    read_manifest,
    write_dataset_manifest,
)
from ducksets.filenames import LEGACY_MANIFEST_NAME
from ducksets.gateway import Gateway, open_memory_gateway
from ducksets.manifest import manifest_entries, manifest_text
from ducksets.schema import Column, TableSchema

ITEMS = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "VARCHAR")), ("id",))

# One row of every kind of value, then one of NULLs (all but `tag`: frictionless
# reports a row whose every cell is empty as a "blank-row" error, whatever the schema;
# and `arr`: pyarrow 26 cannot read the NULL fixed-size ARRAY DuckDB 2.0.1 writes to Parquet,
# "Length spanned by list offsets (3) larger than values array"). The blob is valid UTF-8:
# DuckDB 1.2's JSON writer turns a row holding a blob like '\x80' into an empty line.
TYPED_SELECT = """
SELECT * FROM (VALUES
    (-5::TINYINT, -300::SMALLINT, 70000::INTEGER, 9000000000::BIGINT,
     200::UTINYINT, 60000::USMALLINT, 4000000000::UINTEGER, 18000000000000000000::UBIGINT,
     170141183460469231731687303715884105727::HUGEINT, 12::UHUGEINT,
     123.456::DECIMAL(18,3), 1.5::DECIMAL(38,10), 2.25::DOUBLE, 0.5::FLOAT,
     'naïve "quoted"', true, DATE '2024-02-29', TIME '13:14:15.25',
     TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMPTZ '2024-01-02 03:04:05.5+00',
     TIMESTAMP_NS '2024-01-02 03:04:05.123456789', TIMESTAMP '2024-01-02 03:04:05',
     [1, 2, 3], {'a': 1, 'b': 'x'}, MAP {'k': 1}, '00000000-0000-0000-0000-000000000001'::UUID,
     '\\x00ab'::BLOB, INTERVAL '1 day 2 hours', 'red'::ENUM('red', 'blue'),
     [1, 2]::INTEGER[2], 'x'),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     [3, 4]::INTEGER[2], 'y')
) AS t(i8, i16, i32, i64, u8, u16, u32, u64, i128, u128, dec, dec38, dbl, flt,
       txt, flag, day, clock, ts, tstz, tsns, ts_whole, list, struct, map, id,
       blob, span, colour, arr, tag)
"""


def validate(package: Path) -> frictionless.Report:
    return frictionless.validate(str(package))


def problems(report: frictionless.Report) -> list[str]:
    """Every error of a report, as ``type: note``."""
    found = [f"{e.type}: {e.message}" for e in report.errors]
    for task in report.tasks:
        found += [f"{e.type}: {e.message}" for e in task.errors]
    return found


@pytest.fixture
def typed_gateway() -> Iterator[Gateway]:
    """A table of every column type (with comments), exported to both formats."""
    with open_memory_gateway() as gateway:
        con = gateway.con
        con.execute(f"CREATE TABLE main.typed AS {TYPED_SELECT}")
        con.execute("COMMENT ON TABLE main.typed IS 'Every type, once'")
        con.execute("COMMENT ON COLUMN main.typed.ts IS 'when it happened'")
        register_dataset(
            con, "main.typed", jsonl_filename="typed.jsonl", parquet_filename="typed.parquet"
        )
        yield gateway


@pytest.fixture
def items_gateway() -> Iterator[Gateway]:
    gateway = open_memory_gateway(
        tables={"core.items": ITEMS, "core.small": ITEMS},
        jsonl={"core.items": "items.jsonl", "core.small": "small.jsonl"},
        parquet={"core.items": "items.parquet"},
    )
    gateway.con.execute("INSERT INTO core.items SELECT i, 'item ' || i FROM range(100) r(i)")
    gateway.con.execute("INSERT INTO core.small VALUES (1, 'a'), (2, NULL), (3, 'c')")
    with gateway:
        yield gateway


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def rewrite(package: Path, change: Any) -> None:
    document = json.loads(package.read_text(encoding="utf-8"))
    change(document)
    package.write_text(json.dumps(document), encoding="utf-8")


# --- real exports, checked by frictionless -------------------------------------------------


def test_a_jsonl_export_of_every_type_validates_fully(
    typed_gateway: Gateway, tmp_path: Path
) -> None:
    result = export_all_jsonl(typed_gateway, tmp_path)
    assert result.ok, result.failed
    report = validate(tmp_path / MANIFEST_NAME)
    assert report.valid, problems(report)
    (task,) = report.tasks
    assert task.stats["rows"] == 2
    resource = json.loads((tmp_path / MANIFEST_NAME).read_text())["resources"][0]
    content = (tmp_path / "typed.jsonl").read_bytes()
    assert resource["bytes"] == len(content)  # what frictionless checked
    assert resource["hash"] == f"sha256:{hashlib.sha256(content).hexdigest()}"
    assert (resource["title"], resource["description"]) == ("typed", "Every type, once")
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    assert fields["ts"]["description"] == "when it happened"
    assert "description" not in fields["tstz"]
    # DuckDB writes "2024-01-02 03:04:05.123456" (a space): the schema says so.
    assert b'"ts":"2024-01-02 03:04:05.123456"' in content
    assert (fields["ts"]["type"], fields["ts"]["format"]) == ("datetime", "any")
    assert fields["dec38"] == {
        "name": "dec38",
        "type": "number",
        "ducksets:duckdbType": "DECIMAL(38,10)",
    }


@pytest.mark.filterwarnings("ignore:Discarding nonzero nanoseconds:UserWarning")
def test_a_parquet_export_of_every_type_validates_by_rows_and_schema(
    typed_gateway: Gateway, tmp_path: Path
) -> None:
    result = export_all_parquet(typed_gateway, tmp_path)
    assert result.ok, result.failed
    report = validate(tmp_path / MANIFEST_NAME)  # pandas drops TIMESTAMP_NS's last digits
    assert report.valid, problems(report)
    assert report.tasks[0].stats["rows"] == 2
    resource = json.loads((tmp_path / MANIFEST_NAME).read_text())["resources"][0]
    # frictionless fails any Parquet resource carrying bytes, and never checks its hash.
    assert "bytes" not in resource and "hash" not in resource
    content = (tmp_path / "typed.parquet").read_bytes()
    assert resource["ducksets:bytes"] == len(content)
    assert resource["ducksets:hash"] == f"sha256:{hashlib.sha256(content).hexdigest()}"


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_frictionless_calls_a_row_of_nulls_blank_unless_told_to_skip_that_check(
    tmp_path: Path, fmt: str
) -> None:
    with open_memory_gateway(
        views={"core.v": "SELECT * FROM (VALUES (1, 'a'), (NULL, NULL)) AS t(id, label)"},
        jsonl={"core.v": "v.jsonl"},
        parquet={"core.v": "v.parquet"},
    ) as gateway:
        assert export_datasets(gateway, tmp_path, fmt).ok  # type: ignore[arg-type]
    report = validate(tmp_path / MANIFEST_NAME)
    assert [p.split(":")[0] for p in problems(report)] == ["blank-row"]
    skipping = frictionless.validate(str(tmp_path / MANIFEST_NAME), skip_errors=["blank-row"])
    assert skipping.valid, problems(skipping)


def test_a_changed_byte_in_a_jsonl_file_fails_validation(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    assert export_all_jsonl(items_gateway, tmp_path).ok
    assert validate(tmp_path / MANIFEST_NAME).valid
    small = tmp_path / "small.jsonl"
    small.write_bytes(small.read_bytes().replace(b'"c"', b'"d"'))  # same size
    report = validate(tmp_path / MANIFEST_NAME)
    assert not report.valid
    assert any(p.startswith("hash-count") for p in problems(report)), problems(report)


def test_a_wrong_row_count_fails_validation_in_both_formats(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    assert export_datasets(items_gateway, tmp_path, ["jsonl", "parquet"]).ok
    package = tmp_path / MANIFEST_NAME
    assert validate(package).valid

    def miscount(document: dict[str, Any]) -> None:
        for resource in document["resources"]:
            resource["rows"] += 1

    rewrite(package, miscount)
    report = validate(package)
    assert not report.valid
    failed = [task.name for task in report.tasks if not task.valid]
    assert failed == ["items-jsonl", "items-parquet", "small-jsonl"]
    assert all("row-count" in p for p in problems(report) if "count" in p)


def test_a_value_of_the_wrong_type_fails_validation(items_gateway: Gateway, tmp_path: Path) -> None:
    assert export_all_jsonl(items_gateway, tmp_path, ["small"]).ok
    package = tmp_path / MANIFEST_NAME
    small = tmp_path / "small.jsonl"
    small.write_bytes(small.read_bytes().replace(b'{"id":1,', b'{"id":"one",'))

    def refresh_size_and_hash(document: dict[str, Any]) -> None:
        content = small.read_bytes()
        document["resources"][0]["bytes"] = len(content)
        document["resources"][0]["hash"] = f"sha256:{hashlib.sha256(content).hexdigest()}"

    rewrite(package, refresh_size_and_hash)
    report = validate(package)
    assert [p.split(":")[0] for p in problems(report)] == ["type-error"]


# --- the document -------------------------------------------------------------------------


def entry(name: str, file: str, fmt: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "table_key": f"main.{name}",
        "kind": "table",
        "file": file,
        "format": fmt,
        "rows": 3,
        "bytes": 10,
        "sha256": "ab" * 32,
        "mtime_ns": 17,
        "columns": [{"name": "a b", "type": "DECIMAL(38,0)"}, {"name": "t", "type": "VARCHAR"}],
        **extra,
    }


def test_the_document_renders_and_parses_back() -> None:
    described = entry(
        "Big Data",
        "big.jsonl",
        "jsonl",
        description="What it is",
        columns=[{"name": "x", "type": "INTEGER[]", "description": "the x"}],
    )
    entries = [
        entry("Big Data", "big.parquet", "parquet"),
        described,
        entry("big data", "other.jsonl", "jsonl", sha256=None),  # its name folds alike
        entry("日本", "jp.parquet", "parquet", mtime_ns=None),
    ]
    document = json.loads(manifest_text(entries, "0.6.0"))
    assert document["ducksets:installedPackVersion"] == "0.6.0"
    names = [(r["name"], r["path"]) for r in document["resources"]]
    assert names == [
        ("big-data-jsonl", "big.jsonl"),
        ("big-data-parquet", "big.parquet"),
        ("---parquet", "jp.parquet"),
        ("big-data-jsonl-2", "other.jsonl"),
    ]
    by_path = {r["path"]: r for r in document["resources"]}
    assert "hash" not in by_path["other.jsonl"] and by_path["other.jsonl"]["bytes"] == 10
    decimal = by_path["big.parquet"]["schema"]["fields"][0]
    assert decimal == {"name": "a b", "type": "number", "ducksets:duckdbType": "DECIMAL(38,0)"}
    expected = sorted(entries, key=lambda e: e["file"])
    assert document_entries(document) == expected


def test_a_folder_of_parquet_files_renders_as_one_multipart_resource() -> None:
    parts = [
        {"path": "year=2024/data_0.parquet", "rows": 2, "bytes": 5, "sha256": "ab", "mtime_ns": 1},
        {"path": "year=2025/data_0.parquet", "rows": 3, "bytes": 7, "sha256": None, "mtime_ns": 2},
    ]
    folder = {**entry("events", "events.parquet", "parquet"), "rows": 5, "bytes": 12}
    folder.update(sha256=None, mtime_ns=None, parts=parts)
    document = json.loads(manifest_text([folder], None))
    (resource,) = document["resources"]
    assert resource["path"] == [
        "events.parquet/year=2024/data_0.parquet",
        "events.parquet/year=2025/data_0.parquet",
    ]
    assert (resource["ducksets:rows"], resource["ducksets:bytes"]) == (5, 12)
    assert "rows" not in resource and "ducksets:hash" not in resource
    assert resource["ducksets:files"][0] == {
        "path": "events.parquet/year=2024/data_0.parquet",
        "bytes": 5,
        "rows": 2,
        "hash": "sha256:ab",
        "ducksets:mtimeNs": 1,
    }
    assert "hash" not in resource["ducksets:files"][1]
    assert document_entries(document) == [folder]


def test_a_resource_ducksets_did_not_write_is_not_an_entry() -> None:
    document = json.loads(manifest_text([entry("a", "a.jsonl", "jsonl")], None))
    document["resources"] += [{"name": "theirs", "path": "theirs.csv"}, "junk", {"schema": 1}]
    assert [e["file"] for e in document_entries(document)] == ["a.jsonl"]


@pytest.mark.parametrize(
    ("duckdb_type", "jsonl", "parquet"),
    [
        ("BOOLEAN", {"type": "boolean"}, {"type": "boolean"}),
        ("UHUGEINT", {"type": "integer"}, {"type": "integer"}),
        ("DECIMAL(38,0)", {"type": "number"}, {"type": "number"}),
        ("FLOAT", {"type": "number"}, {"type": "number"}),
        ("VARCHAR", {"type": "string"}, {"type": "string"}),
        ("DATE", {"type": "date"}, {"type": "date"}),
        ("TIME WITH TIME ZONE", {"type": "time"}, {"type": "time"}),
        ("TIMESTAMP WITH TIME ZONE", {"type": "datetime", "format": "any"}, {"type": "datetime"}),
        ("TIMESTAMP_NS", {"type": "datetime", "format": "any"}, {"type": "datetime"}),
        ("STRUCT(a INTEGER[])", {"type": "object"}, {"type": "object"}),
        ("STRUCT(a INTEGER)[]", {"type": "array"}, {"type": "any"}),
        ("INTEGER[3]", {"type": "array"}, {"type": "any"}),
        ("MAP(VARCHAR, INTEGER)", {"type": "object"}, {"type": "any"}),
        ("UUID", {"type": "string", "format": "uuid"}, {"type": "any"}),
        ("BLOB", {"type": "string"}, {"type": "any"}),
        ("BIT", {"type": "string"}, {"type": "string"}),
        ("ENUM('a', 'b')", {"type": "string"}, {"type": "string"}),
        ("INTERVAL", {"type": "any"}, {"type": "any"}),
        ("UNION(k INTEGER, v VARCHAR)", {"type": "any"}, {"type": "any"}),
        ("my_type", {"type": "any"}, {"type": "any"}),
    ],
)
def test_duckdb_types_become_table_schema_types(
    duckdb_type: str, jsonl: dict[str, str], parquet: dict[str, str]
) -> None:
    assert field_type(duckdb_type, "jsonl") == jsonl
    assert field_type(duckdb_type, "parquet") == parquet


# --- a foreign datapackage.json ------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"name": "theirs", "resources": []}', "no ducksets:format"),
        ("not json", "Expecting value"),
        ('{"ducksets:format": 99, "resources": []}', "written by a newer ducksets"),
    ],
)
def test_a_foreign_datapackage_stops_the_export_and_touches_nothing(
    items_gateway: Gateway, tmp_path: Path, content: str, why: str
) -> None:
    (tmp_path / MANIFEST_NAME).write_text(content)
    (tmp_path / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    with pytest.raises(ExportError, match=why) as refused:
        export_all_jsonl(items_gateway, tmp_path)
    assert str(tmp_path / MANIFEST_NAME) in str(refused.value)
    assert snapshot(tmp_path) == before
    assert {p.name for p in tmp_path.iterdir()} <= {*before, LOCK_NAME}


def test_a_datapackage_that_is_a_symlink_is_refused(items_gateway: Gateway, tmp_path: Path) -> None:
    elsewhere = tmp_path / "theirs.json"
    out = tmp_path / "out"
    out.mkdir()
    assert export_all_jsonl(items_gateway, tmp_path / "first").ok
    elsewhere.write_bytes((tmp_path / "first" / MANIFEST_NAME).read_bytes())
    (out / MANIFEST_NAME).symlink_to(elsewhere)
    with pytest.raises(ExportError, match="not a regular file"):
        export_all_jsonl(items_gateway, out)
    assert (out / MANIFEST_NAME).is_symlink() and not (out / "items.jsonl").exists()


# --- the legacy manifest.json --------------------------------------------------------------


def make_legacy(directory: Path) -> dict[str, Any]:
    """Turn a fresh export's directory into what ducksets 0.6 left: files and manifest.json."""
    entries = manifest_entries(directory)
    legacy = {
        "ducksets_manifest": 1,
        "pack_version": "0.6.0",
        "installed_pack_version": "0.6.0",
        "duckdb_version": duckdb.__version__,
        "written_at": "2026-01-02T03:04:05+00:00",
        "datasets": entries,
    }
    (directory / LEGACY_MANIFEST_NAME).write_text(json.dumps(legacy, indent=2))
    (directory / MANIFEST_NAME).unlink()
    return legacy


def test_a_legacy_manifest_is_migrated_once(items_gateway: Gateway, tmp_path: Path) -> None:
    assert export_all_jsonl(items_gateway, tmp_path).ok
    legacy = make_legacy(tmp_path)
    small = tmp_path / "small.jsonl"
    small.write_bytes(small.read_bytes().replace(b'"c"', b'"d"'))  # no longer exact
    os.utime(small, ns=(0, 1))
    # Until the next export, the legacy manifest reads as the data package it becomes.
    document = read_manifest(tmp_path)
    assert document is not None and document["created"] == legacy["written_at"]
    assert [r["path"] for r in document["resources"]] == ["items.jsonl", "small.jsonl"]
    result = export_all_parquet(items_gateway, tmp_path)
    assert result.ok
    assert not (tmp_path / LEGACY_MANIFEST_NAME).exists()
    files = [e["file"] for e in manifest_entries(tmp_path)]
    assert files == ["items.jsonl", "items.parquet"]  # small.jsonl changed: dropped
    assert validate(tmp_path / MANIFEST_NAME).valid
    # items.jsonl is still a ducksets file: the next export may replace it.
    assert export_all_jsonl(items_gateway, tmp_path, ["items"]).ok


def test_a_stale_legacy_manifest_beside_a_datapackage_is_removed(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    assert export_all_jsonl(items_gateway, tmp_path, ["items"]).ok
    package = (tmp_path / MANIFEST_NAME).read_bytes()
    make_legacy(tmp_path)
    (tmp_path / MANIFEST_NAME).write_bytes(package)
    legacy = json.loads((tmp_path / LEGACY_MANIFEST_NAME).read_text())
    legacy["datasets"][0]["file"] = "gone.jsonl"  # datapackage.json is the one truth
    (tmp_path / LEGACY_MANIFEST_NAME).write_text(json.dumps(legacy))
    assert export_all_jsonl(items_gateway, tmp_path, ["small"]).ok
    assert not (tmp_path / LEGACY_MANIFEST_NAME).exists()
    assert [e["file"] for e in manifest_entries(tmp_path)] == ["items.jsonl", "small.jsonl"]


@pytest.mark.parametrize(
    "content", ['{"files": ["a"]}', "not json", '{"ducksets_manifest": 1, "datasets": 3}']
)
def test_a_manifest_json_ducksets_did_not_write_is_left_alone(
    items_gateway: Gateway, tmp_path: Path, content: str
) -> None:
    (tmp_path / LEGACY_MANIFEST_NAME).write_text(content)
    assert read_manifest(tmp_path) is None
    assert export_all_jsonl(items_gateway, tmp_path).ok
    assert (tmp_path / LEGACY_MANIFEST_NAME).read_text() == content
    assert [e["file"] for e in manifest_entries(tmp_path)] == ["items.jsonl", "small.jsonl"]


def test_a_legacy_manifest_symlink_is_not_followed_nor_removed(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    assert export_all_jsonl(items_gateway, tmp_path / "old").ok
    make_legacy(tmp_path / "old")
    out = tmp_path / "out"
    out.mkdir()
    (out / LEGACY_MANIFEST_NAME).symlink_to(tmp_path / "old" / LEGACY_MANIFEST_NAME)
    assert export_all_jsonl(items_gateway, out, ["small"]).ok
    assert (out / LEGACY_MANIFEST_NAME).is_symlink()
    assert [e["file"] for e in manifest_entries(out)] == ["small.jsonl"]


def test_a_failed_migration_publish_keeps_the_legacy_manifest(
    items_gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert export_all_jsonl(items_gateway, tmp_path, ["small"]).ok
    make_legacy(tmp_path)
    before = snapshot(tmp_path)
    real_replace = Path.replace

    def full_disk(self: Path, target: Any) -> Path:
        if Path(target).name == MANIFEST_NAME:
            raise OSError(28, "No space left on device", str(target))
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", full_disk)
    with pytest.raises(ExportError, match="nothing was changed"):
        export_all_jsonl(items_gateway, tmp_path, ["items"])
    monkeypatch.undo()
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k != LOCK_NAME} == {
        k: v for k, v in before.items() if k != LOCK_NAME
    }
    assert not any(p.name.startswith(TEMP_PREFIX) for p in tmp_path.iterdir())


def test_a_migration_cut_short_is_rolled_back_by_the_next_export(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    assert export_all_jsonl(items_gateway, tmp_path, ["small"]).ok
    legacy = make_legacy(tmp_path)
    legacy_text = (tmp_path / LEGACY_MANIFEST_NAME).read_text()
    # Killed after moving manifest.json aside, before publishing datapackage.json.
    crashed = tmp_path / f"{TEMP_PREFIX}crashed"
    for sub in ("files", "old"):
        (crashed / sub).mkdir(parents=True)
    (crashed / ".lock").write_bytes(b"")
    record = {"publish": [MANIFEST_NAME], "remove": [LEGACY_MANIFEST_NAME]}
    (crashed / "publish.json").write_text(json.dumps(record))
    (crashed / MANIFEST_NAME).write_text("{}")
    (tmp_path / LEGACY_MANIFEST_NAME).replace(crashed / "old" / LEGACY_MANIFEST_NAME)
    # The next export first restores manifest.json, then migrates it.
    assert export_all_jsonl(items_gateway, tmp_path, ["items"]).ok
    assert not crashed.exists() and not (tmp_path / LEGACY_MANIFEST_NAME).exists()
    assert [e["file"] for e in manifest_entries(tmp_path)] == ["items.jsonl", "small.jsonl"]
    assert legacy["datasets"][0]["file"] == "small.jsonl" and legacy_text


def test_write_dataset_manifest_migrates_and_describes(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    result = export_all_jsonl(items_gateway, tmp_path)
    make_legacy(tmp_path)
    items_gateway.con.execute("COMMENT ON TABLE core.items IS 'All the items'")
    items_gateway.con.execute("COMMENT ON COLUMN core.items.id IS 'the key'")
    written = write_dataset_manifest(tmp_path, result.written[:1], gateway=items_gateway)
    assert written == tmp_path / MANIFEST_NAME
    assert not (tmp_path / LEGACY_MANIFEST_NAME).exists()
    items, small = json.loads(written.read_text())["resources"]
    assert items["description"] == "All the items"
    assert items["schema"]["fields"][0]["description"] == "the key"
    assert "description" not in small  # kept from the legacy manifest as it was


def test_the_package_describes_each_relation_as_the_exported_snapshot_held_it(
    items_gateway: Gateway, tmp_path: Path
) -> None:
    items_gateway.con.execute("COMMENT ON TABLE core.items IS 'as exported'")
    items_gateway.con.execute("COMMENT ON COLUMN core.items.id IS 'the key as exported'")
    other = items_gateway.con.cursor()  # another connection, committing during the run

    def progress(outcome: ExportOutcome) -> None:
        other.execute("COMMENT ON TABLE core.items IS 'changed later'")
        other.execute("COMMENT ON COLUMN core.items.id IS 'changed later'")
        other.execute("COMMENT ON TABLE core.small IS 'added later'")

    assert export_all_jsonl(items_gateway, tmp_path, progress=progress).ok
    items, small = json.loads((tmp_path / MANIFEST_NAME).read_text())["resources"]
    assert items["description"] == "as exported"
    assert items["schema"]["fields"][0]["description"] == "the key as exported"
    assert "description" not in small
    # The comments did change, after the snapshot the files were written from.
    now = items_gateway.con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'core' ORDER BY table_name"
    )
    assert now.fetchall() == [("changed later",), ("added later",)]


def test_the_manifest_names_are_reserved() -> None:
    from ducksets.filenames import check_filename

    for name in (MANIFEST_NAME, LEGACY_MANIFEST_NAME, "DataPackage.json"):
        with pytest.raises(InvalidFilenameError, match="reserved"):
            check_filename(name)
