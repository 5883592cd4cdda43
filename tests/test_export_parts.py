"""Parquet exports as a directory of files: partitioned and/or split by size."""

from __future__ import annotations

import errno
import hashlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import frictionless
import pytest

from ducksets._datapackage import resource_entry
from ducksets._export_parts import parse_size
from ducksets.catalog import register_dataset
from ducksets.cli import main
from ducksets.errors import (
    ArgumentTypeError,
    ExportError,
    InvalidArgumentError,
    InvalidFilenameError,
)
from ducksets.export import (
    MANIFEST_NAME,
    TEMP_PREFIX,
    export_all_parquet,
    export_datasets,
    read_manifest,
)
from ducksets.gateway import Gateway, StorageConfig, open_gateway, open_memory_gateway
from ducksets.pack import install_macros

EVENTS = """
    CREATE OR REPLACE TABLE core.events AS
    SELECT i AS id, {years} AS year, ['a', 'b/c', '../..', NULL][i % 4 + 1] AS kind,
           'payload ' || i AS payload
    FROM range({rows}) r(i)
"""


class Interrupted(BaseException):
    """Stands for an interrupt (``KeyboardInterrupt``, ``SystemExit``) mid-publish."""


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every regular file under ``directory`` (staging excluded) and its bytes."""
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not p.relative_to(directory).as_posix().startswith(TEMP_PREFIX)
    }


def resources(directory: Path) -> dict[str, dict[str, Any]]:
    document = read_manifest(directory)
    assert document is not None
    return {r["ducksets:dataset"]: r for r in document["resources"]}


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """``events`` (3,000 rows over 2024/2025, kinds with '/' and '..') and ``small`` (3 rows)."""
    gateway = open_memory_gateway()
    con = gateway.con
    con.execute("CREATE SCHEMA core")
    con.execute(EVENTS.format(years="2024 + i % 2", rows=3000))
    con.execute("CREATE TABLE core.small AS SELECT * FROM range(3) r(id)")
    register_dataset(con, "core.events", parquet_filename="events.parquet")
    register_dataset(con, "core.small", parquet_filename="small.parquet")
    with gateway:
        yield gateway


def check_listed(out: Path, resource: dict[str, Any]) -> None:
    """Every file of a multipart resource is listed with its true bytes, sha256 and rows."""
    files = resource["ducksets:files"]
    assert resource["path"] == [f["path"] for f in files]
    folder = out / resource["path"][0].split("/")[0]
    on_disk = sorted(p.relative_to(out).as_posix() for p in folder.rglob("*") if p.is_file())
    assert on_disk == sorted(resource["path"])
    con = duckdb.connect()
    for listed in files:
        path = out / listed["path"]
        assert path.resolve().is_relative_to(folder.resolve())
        assert listed["bytes"] == path.stat().st_size
        assert listed["hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        (count,) = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()  # type: ignore[misc]
        assert listed["rows"] == count
    assert resource["ducksets:rows"] == sum(f["rows"] for f in files)
    assert resource["ducksets:bytes"] == sum(f["bytes"] for f in files)
    assert "rows" not in resource and "ducksets:hash" not in resource


def test_partitioned_export_lists_every_file(gateway: Gateway, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export_all_parquet(gateway, out, partition_by={"events": ["year", "KIND"]})
    assert result.ok
    events = next(f for f in result.written if f.dataset_name == "events")
    assert events.path == out / "events.parquet" and events.path.is_dir()
    assert events.rows == 3000 and len(events.parts) == 4  # year and kind go together
    assert events.bytes == sum(p.bytes for p in events.parts)
    listed = resources(out)
    check_listed(out, listed["events"])
    paths = listed["events"]["path"]
    assert "events.parquet/year=2024/kind=a/data_0.parquet" in paths  # i % 2, i % 4
    # '/' in a value is escaped by DuckDB: '../..' stays one folder name inside.
    assert any("kind=..%2F.." in p for p in paths)
    assert listed["small"]["path"] == "small.parquet" and listed["small"]["rows"] == 3
    # Every row once, every column in every file (partition columns written too).
    con = duckdb.connect()
    files = [str(out / p) for p in paths]
    got = con.execute(
        "SELECT count(*), count(DISTINCT id), sum(year) "
        "FROM read_parquet(?, hive_partitioning=false)",
        [files],
    ).fetchone()
    assert got == (3000, 3000, 1500 * 2024 + 1500 * 2025)


def test_max_file_bytes_splits_every_parquet_dataset(gateway: Gateway, tmp_path: Path) -> None:
    gateway.con.execute(EVENTS.format(years="2024", rows=400_000))
    out = tmp_path / "out"
    result = export_datasets(gateway, out, "parquet", max_file_bytes=200_000)
    assert result.ok
    by_name = {f.dataset_name: f for f in result.written}
    assert len(by_name["events"].parts) >= 3
    assert [p.path for p in by_name["small"].parts] == ["data_0.parquet"]
    for resource in resources(out).values():
        check_listed(out, resource)


def test_an_empty_partitioned_dataset_gets_one_empty_file(gateway: Gateway, tmp_path: Path) -> None:
    gateway.con.execute("DELETE FROM core.events")
    result = export_all_parquet(gateway, tmp_path, ["events"], partition_by={"events": ["year"]})
    (events,) = result.written
    assert [(p.path, p.rows) for p in events.parts] == [("data_0.parquet", 0)]
    check_listed(tmp_path, resources(tmp_path)["events"])


def test_frictionless_validates_the_package(gateway: Gateway, tmp_path: Path) -> None:
    export_all_parquet(gateway, tmp_path, partition_by={"events": ["year"]})
    report = frictionless.validate(str(tmp_path / MANIFEST_NAME))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_re_export_replaces_the_whole_set(gateway: Gateway, tmp_path: Path) -> None:
    by_year = {"events": ["year"]}
    assert export_all_parquet(gateway, tmp_path, ["events"], partition_by=by_year).ok
    gateway.con.execute(EVENTS.format(years="2030", rows=10))
    assert export_all_parquet(gateway, tmp_path, ["events"], partition_by=by_year).ok
    (resource,) = resources(tmp_path).values()
    assert resource["path"] == ["events.parquet/year=2030/data_0.parquet"]
    check_listed(tmp_path, resource)
    # The directory becomes one file again, and back.
    assert export_all_parquet(gateway, tmp_path, ["events"]).ok
    assert (tmp_path / "events.parquet").is_file()
    assert resources(tmp_path)["events"]["path"] == "events.parquet"
    assert export_all_parquet(gateway, tmp_path, ["events"], partition_by=by_year).ok
    assert (tmp_path / "events.parquet").is_dir()
    check_listed(tmp_path, resources(tmp_path)["events"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_other_entries_are_kept_while_their_files_match(gateway: Gateway, tmp_path: Path) -> None:
    assert export_all_parquet(gateway, tmp_path, ["events"], partition_by={"events": ["year"]}).ok
    assert export_all_parquet(gateway, tmp_path, ["small"]).ok
    assert sorted(resources(tmp_path)) == ["events", "small"]
    # A part changed on disk: the events entry no longer describes its files.
    part = tmp_path / "events.parquet" / "year=2024" / "data_0.parquet"
    part.write_bytes(part.read_bytes() + b"x")
    assert export_all_parquet(gateway, tmp_path, ["small"]).ok
    assert sorted(resources(tmp_path)) == ["small"]


@pytest.mark.parametrize("fault", ["disk full at the package", "interrupt at the directory"])
def test_a_fault_midway_leaves_the_old_set_and_package(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    assert export_all_parquet(gateway, tmp_path, partition_by={"events": ["year"]}).ok
    before = snapshot(tmp_path)
    gateway.con.execute(EVENTS.format(years="2031", rows=50))
    real_replace = Path.replace

    def failing_replace(self: Path, target: Any) -> Path:
        name, staged = Path(target).name, TEMP_PREFIX in str(self)
        if fault.startswith("disk") and staged and name == MANIFEST_NAME:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        # From files/: the old set is already moved aside when the new one comes in.
        moving_in = staged and name == "events.parquet" and "/files/" in self.as_posix()
        if fault.startswith("interrupt") and moving_in:
            raise Interrupted
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", failing_replace)
    with pytest.raises((ExportError, Interrupted)):
        export_all_parquet(gateway, tmp_path, partition_by={"events": ["year"]})
    monkeypatch.undo()
    assert snapshot(tmp_path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_a_directory_publish_cut_short_is_rolled_back_by_the_next_export(
    gateway: Gateway, tmp_path: Path
) -> None:
    assert export_all_parquet(gateway, tmp_path, ["events"], partition_by={"events": ["year"]}).ok
    before = snapshot(tmp_path)
    # A run killed after moving the old directory aside and its new one in, package unpublished.
    crashed = tmp_path / f"{TEMP_PREFIX}crashed"
    for sub in ("files", "old"):
        (crashed / sub).mkdir(parents=True)
    (crashed / ".lock").write_bytes(b"")
    record = {
        "publish": ["events.parquet", MANIFEST_NAME],
        "remove": [],
        "dirs": ["events.parquet"],
    }
    (crashed / "publish.json").write_text(json.dumps(record))
    (tmp_path / "events.parquet").replace(crashed / "old" / "events.parquet")
    (tmp_path / "events.parquet" / "year=1999").mkdir(parents=True)
    (tmp_path / "events.parquet" / "year=1999" / "data_0.parquet").write_bytes(b"new")
    (crashed / MANIFEST_NAME).write_text("{}")
    assert export_all_parquet(gateway, tmp_path, ["small"]).ok
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k not in {MANIFEST_NAME, "small.parquet"}} == {
        k: v for k, v in before.items() if k != MANIFEST_NAME
    }
    assert sorted(resources(tmp_path)) == ["events", "small"]


def test_a_journal_whose_directory_is_not_published_is_not_obeyed(tmp_path: Path) -> None:
    """``dirs`` must name published targets: anything else leaves the staging alone."""
    from ducksets._publishing import rollback

    crashed = tmp_path / f"{TEMP_PREFIX}crashed"
    for sub in ("files", "old"):
        (crashed / sub).mkdir(parents=True)
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "x").write_text("mine")
    record = {"publish": [MANIFEST_NAME], "remove": [], "dirs": ["keep"]}
    (crashed / "publish.json").write_text(json.dumps(record))
    (crashed / MANIFEST_NAME).write_text("{}")
    assert rollback(tmp_path, crashed) is False
    assert (tmp_path / "keep" / "x").read_text() == "mine"


def bad_options() -> list[tuple[dict[str, Any], type[Exception], str]]:
    return [
        ({"fmt": "jsonl", "partition_by": {"events": ["year"]}}, InvalidArgumentError, "Parquet"),
        ({"fmt": ["parquet", "jsonl"], "max_file_bytes": 10**6}, InvalidArgumentError, "Parquet"),
        ({"partition_by": {"events": ["nope"]}}, InvalidArgumentError, "'nope'"),
        (
            {"partition_by": {"ghost": ["year"]}, "datasets": ["events"]},
            InvalidArgumentError,
            "'ghost'",
        ),
        ({"partition_by": {"ghost": ["year"]}}, InvalidArgumentError, "'ghost'"),
        ({"partition_by": {"events": []}}, InvalidArgumentError, "at least one column"),
        ({"partition_by": {"events": ["year", "YEAR"]}}, InvalidArgumentError, "twice"),
        ({"partition_by": {"events": "year"}}, ArgumentTypeError, "list of column names"),
        ({"partition_by": ["events"]}, ArgumentTypeError, "map dataset names"),
        ({"max_file_bytes": 0}, InvalidArgumentError, "at least 1 byte"),
        ({"max_file_bytes": True}, ArgumentTypeError, "int"),
        ({"max_file_bytes": "256MB"}, ArgumentTypeError, "int"),
    ]


@pytest.mark.parametrize(("options", "error", "says"), bad_options())
def test_bad_options_give_one_typed_error_and_change_nothing(
    gateway: Gateway,
    tmp_path: Path,
    options: dict[str, Any],
    error: type[Exception],
    says: str,
) -> None:
    assert export_all_parquet(gateway, tmp_path, partition_by={"events": ["year"]}).ok
    before = snapshot(tmp_path)
    options = {"fmt": "parquet", **options}
    with pytest.raises(error, match=says) as caught:
        export_datasets(gateway, tmp_path, **options)
    if isinstance(caught.value, InvalidArgumentError):
        assert caught.value.parameter in {"partition_by", "max_file_bytes"}
    assert snapshot(tmp_path) == before


def test_a_foreign_directory_is_not_replaced(gateway: Gateway, tmp_path: Path) -> None:
    (tmp_path / "events.parquet").mkdir()
    (tmp_path / "events.parquet" / "mine.txt").write_text("mine")
    with pytest.raises(InvalidFilenameError, match="events.parquet"):
        export_all_parquet(gateway, tmp_path, partition_by={"events": ["year"]})
    assert snapshot(tmp_path) == {"events.parquet/mine.txt": b"mine"}


@pytest.mark.parametrize(
    "paths",
    [
        ["events.parquet/../x.parquet"],
        ["events.parquet//x.parquet"],
        ["/etc/events.parquet/x"],
        ["events.parquet/a\\..\\..\\x"],
        ["events.parquet/a.parquet", "other.parquet/b.parquet"],
        [],
    ],
)
def test_a_multipart_resource_that_could_leave_its_folder_is_not_read(paths: list[str]) -> None:
    resource = {
        "path": paths,
        "format": "parquet",
        "ducksets:dataset": "events",
        "ducksets:files": [{"path": p, "bytes": 1, "rows": 1} for p in paths],
        "schema": {"fields": [{"name": "id"}]},
    }
    assert resource_entry(resource) is None


def cli_database(tmp_path: Path) -> Path:
    """A database file with ``events`` and ``small`` registered (as the fixture)."""
    db = tmp_path / "cli.duckdb"
    with duckdb.connect(str(db)) as con:
        install_macros(con)
        con.execute("CREATE SCHEMA core")
        con.execute(EVENTS.format(years="2024 + i % 2", rows=300_000))
        con.execute("CREATE TABLE core.small AS SELECT * FROM range(3) r(id)")
        register_dataset(con, "core.events", parquet_filename="events.parquet")
        register_dataset(con, "core.small", jsonl_filename="small.jsonl")
    return db


def test_cli_partition_by_and_max_file_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, out = cli_database(tmp_path), tmp_path / "out"
    argv = ["export", str(db), "--out", str(out), "--format", "json"]
    # Parquet is the default file format with these options (JSONL cannot be split).
    assert main([*argv, "--partition-by", "events=year, kind", "--dataset", "events"]) == 0
    report = json.loads(capsys.readouterr().out)
    (written,) = report["written"]
    assert written["file"] == str(out / "events.parquet") and len(written["parts"]) == 4
    check_listed(out, resources(out)["events"])
    assert main([*argv, "--max-file-size", "1MB", "--dataset", "events"]) == 0
    (written,) = json.loads(capsys.readouterr().out)["written"]
    assert len(written["parts"]) >= 2
    assert all(p["path"].startswith("data_") for p in written["parts"])
    check_listed(out, resources(out)["events"])


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--partition-by", "events"], "is not NAME=COL"),
        (["--partition-by", "events=year", "--partition-by", "events=kind"], "given twice"),
        (["--max-file-size", "lots"], "is not a size"),
        (["--max-file-size", "0MB"], "is not a size"),
        (["--max-file-size", "1MB", "--file-format", "both"], "Parquet exports only"),
        (["--partition-by", "events=nope"], "no column 'nope'"),
    ],
)
def test_cli_bad_split_options_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], says: str
) -> None:
    db, out = cli_database(tmp_path), tmp_path / "out"
    assert main(["export", str(db), "--out", str(out), *extra]) == 1
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists() or snapshot(out) == {}


def test_parse_size_spellings() -> None:
    assert [parse_size(s) for s in ("256MB", "1 GiB", "1000", "1.5KB", "2kib")] == [
        256_000_000, 2**30, 1000, 1500, 2048
    ]  # fmt: skip


def test_without_checksums_no_file_has_a_hash(gateway: Gateway, tmp_path: Path) -> None:
    result = export_all_parquet(
        gateway, tmp_path, ["events"], partition_by={"events": ["year"]}, checksums=False
    )
    assert [p.sha256 for p in result.written[0].parts] == [None, None]
    listed = resources(tmp_path)["events"]["ducksets:files"]
    assert [sorted(f) for f in listed] == [["bytes", "ducksets:mtimeNs", "path", "rows"]] * 2
    assert export_all_parquet(gateway, tmp_path, ["small"]).ok  # the entry is kept
    assert sorted(resources(tmp_path)) == ["events", "small"]


def test_split_options_are_refused_for_s3_targets(gateway: Gateway) -> None:
    with pytest.raises(InvalidArgumentError, match="s3:// targets") as caught:
        export_all_parquet(gateway, "s3://bucket/prefix", max_file_bytes=10**6)
    assert caught.value.parameter == "output_dir"


def test_both_options_together_need_duckdb_2(gateway: Gateway, tmp_path: Path) -> None:
    """DuckDB 1.2-1.5 cannot combine FILE_SIZE_BYTES and PARTITION_BY: refused up front there."""
    options: dict[str, Any] = {"partition_by": {"events": ["year"]}, "max_file_bytes": 10**6}
    if int(duckdb.__version__.split(".")[0]) >= 2:
        result = export_all_parquet(gateway, tmp_path, **options)
        check_listed(tmp_path, resources(tmp_path)["events"])
        assert [p.path for p in result.written[1].parts] == ["data_0.parquet"]  # small: size only
    else:
        with pytest.raises(InvalidArgumentError, match="DuckDB 2.0"):
            export_all_parquet(gateway, tmp_path, **options)
        assert snapshot(tmp_path) == {}


KILL_DURING_PUBLISH = """
import os, signal, sys
from pathlib import Path
from ducksets import StorageConfig, open_gateway
from ducksets.export import export_all_parquet
db, out, moment = sys.argv[1], sys.argv[2], sys.argv[3]
replace = Path.replace

def replace_or_die(self, target):
    # Only picks the moment: the kill itself is a real SIGKILL of this process.
    staged = "/files/" in self.as_posix() and Path(target).name == "events.parquet"
    if (moment == "directory" and staged) or (
        moment == "package" and Path(target).name == "datapackage.json"
    ):
        os.kill(os.getpid(), signal.SIGKILL)
    return replace(self, target)

Path.replace = replace_or_die
with open_gateway(StorageConfig(db, read_only=True)) as gateway:
    export_all_parquet(gateway, out, partition_by={"events": ["year"]})
"""


@pytest.mark.parametrize("moment", ["directory", "package"])
def test_kill_9_during_a_directory_publish_is_rolled_back(tmp_path: Path, moment: str) -> None:
    db, out = tmp_path / "k.duckdb", tmp_path / "out"
    with duckdb.connect(str(db)) as con:
        install_macros(con)
        con.execute("CREATE SCHEMA core")
        con.execute(EVENTS.format(years="2024 + i % 2", rows=100))
        register_dataset(con, "core.events", parquet_filename="events.parquet")
        con.execute("CREATE TABLE core.other AS SELECT 1 AS id")
        register_dataset(con, "core.other", parquet_filename="other.parquet")
    with open_gateway(StorageConfig(db, read_only=True)) as gateway:
        assert export_all_parquet(gateway, out, partition_by={"events": ["year"]}).ok
    before = snapshot(out)
    with duckdb.connect(str(db)) as con:
        con.execute(EVENTS.format(years="2040", rows=7))
    killed = subprocess.run(
        [sys.executable, "-c", KILL_DURING_PUBLISH, str(db), str(out), moment],
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [p for p in out.iterdir() if p.name.startswith(TEMP_PREFIX)]  # left for the next run
    with open_gateway(StorageConfig(db, read_only=True)) as gateway:
        assert export_all_parquet(gateway, out, ["other"]).ok  # rolls back first
    after = snapshot(out)
    assert after["other.parquet"] == before["other.parquet"]  # the same table, the same bytes
    del after[MANIFEST_NAME], before[MANIFEST_NAME]
    assert after == before  # the old set, none of the killed run's files
    check_listed(out, resources(out)["events"])
    assert not [p for p in out.iterdir() if p.name.startswith(TEMP_PREFIX)]
