"""Exports to S3 (moto): objects per run, the package document last, orphans cleaned."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ducksets._s3_runs import RETIRED
from ducksets.errors import (
    BucketMissingError,
    ConfigError,
    EndpointUnreachableError,
    ExportError,
    InvalidArgumentError,
    MissingExtraError,
    ObjectStoreAccessError,
)
from ducksets.export import (
    MANIFEST_NAME,
    ExportOutcome,
    export_all_jsonl,
    export_all_parquet,
    export_dataset_to_parquet,
    export_datasets,
    write_dataset_manifest,
)
from ducksets.gateway import Gateway, StorageConfig, open_gateway, open_memory_gateway
from ducksets.schema import Column, TableSchema
from s3_server import MotoServer, free_port

ITEMS = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "VARCHAR")), ("id",))
BIN = Path(sys.executable).parent


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """Two tables (1,000 and 3 rows) and a view, with file names for both formats."""
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


def objects(moto: MotoServer, bucket: str, prefix: str = "") -> dict[str, bytes]:
    """Every object in ``bucket`` under ``prefix``: key -> content."""
    client = moto.client()
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            found[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def package(moto: MotoServer, bucket: str, prefix: str) -> dict[str, Any]:
    body = moto.client().get_object(Bucket=bucket, Key=f"{prefix}/{MANIFEST_NAME}")["Body"]
    document: dict[str, Any] = json.loads(body.read())
    return document


def package_entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries of a package, whichever layout the manifest module writes."""
    from ducksets import _s3_package

    return _s3_package.entries_of_package(json.dumps(document), "s3://test")


def s3_con(moto: MotoServer) -> duckdb.DuckDBPyConnection:
    """A connection that reads s3:// from moto (s3fs registered, as a user would)."""
    import s3fs

    con = duckdb.connect()
    con.register_filesystem(
        s3fs.S3FileSystem(
            key=moto.environment()["AWS_ACCESS_KEY_ID"],
            secret=moto.environment()["AWS_SECRET_ACCESS_KEY"],
            endpoint_url=moto.endpoint,
            skip_instance_cache=True,
        )
    )
    return con


def test_export_writes_objects_and_the_package_last(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str
) -> None:
    seen: list[ExportOutcome] = []
    result = export_datasets(
        gateway, f"s3://{s3_bucket}/exports", ("jsonl", "parquet"), progress=seen.append
    )
    assert result.ok and len(result.written) == 4 and list(result.written) == seen
    stored = objects(moto_s3, s3_bucket)
    document = package(moto_s3, s3_bucket, "exports")
    entries = {e["file"]: e for e in package_entries(document)}
    run = {key.split("/")[1] for key in stored if key != f"exports/{MANIFEST_NAME}"}
    assert len(run) == 1  # one run directory, the package beside it
    assert set(stored) == {f"exports/{MANIFEST_NAME}"} | {f"exports/{f}" for f in entries}
    con = s3_con(moto_s3)
    for exported in result.written:
        content = stored[f"exports/{exported.path}"]
        entry = entries[str(exported.path)]
        assert entry["bytes"] == exported.bytes == len(content)
        assert entry["sha256"] == exported.sha256 == hashlib.sha256(content).hexdigest()
        assert entry["rows"] == exported.rows
        reader = "read_parquet" if exported.format == "parquet" else "read_json"
        url = f"s3://{s3_bucket}/exports/{exported.path}"
        assert exported.url == url  # type: ignore[attr-defined]
        (count,) = con.execute(f"SELECT count(*) FROM {reader}(?)", [url]).fetchall()[0]
        assert count == exported.rows
    assert {e.rows for e in result.written if e.table_key == "core.items"} == {1000}
    package_url = f"s3://{s3_bucket}/exports/{MANIFEST_NAME}"
    assert result.package_url == package_url  # type: ignore[attr-defined]
    assert package_url in repr(result) and "no manifest" not in repr(result)


def run_of(result: Any) -> str:
    (run,) = {str(f.path).split("/")[0] for f in result.written}
    return run


def test_reexport_replaces_the_package_and_keeps_the_old_one_readable_until_then(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str
) -> None:
    target = f"s3://{s3_bucket}/p"
    first = export_all_parquet(gateway, target)
    before = package(moto_s3, s3_bucket, "p")
    seen_during: list[dict[str, Any]] = []

    def progress(outcome: ExportOutcome) -> None:
        # Mid-run, readers still get the first package, and its objects are all there.
        seen_during.append(package(moto_s3, s3_bucket, "p"))
        stored = objects(moto_s3, s3_bucket, "p/")
        assert all(f"p/{e['file']}" in stored for e in package_entries(before))

    gateway.con.execute("INSERT INTO core.items VALUES (5000, 'new')")
    second = export_all_parquet(gateway, target, progress=progress)
    assert seen_during and all(d == before for d in seen_during)
    after = package_entries(package(moto_s3, s3_bucket, "p"))
    assert run_of(second) != run_of(first)
    assert {e["file"].split("/")[0] for e in after} == {run_of(second)}
    assert {e["rows"] for e in after if e["table_key"] == "core.items"} == {1001}
    # The first run's objects stay for readers of the old package (younger than the grace).
    assert all(f"p/{f.path}" in objects(moto_s3, s3_bucket, "p/") for f in first.written)


def test_a_failed_run_leaves_the_live_package_and_deletes_its_objects(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str
) -> None:
    target = f"s3://{s3_bucket}/p"
    export_all_jsonl(gateway, target)
    before = objects(moto_s3, s3_bucket)

    def progress(outcome: ExportOutcome) -> None:
        raise KeyboardInterrupt  # the user stops the run after its first object

    with pytest.raises(KeyboardInterrupt):
        export_all_jsonl(gateway, target, progress=progress)
    assert objects(moto_s3, s3_bucket) == before


def test_earlier_entries_are_kept_while_their_objects_are_there(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str
) -> None:
    target = f"s3://{s3_bucket}/p"
    jsonl = export_all_jsonl(gateway, target)
    export_all_parquet(gateway, target)
    entries = package_entries(package(moto_s3, s3_bucket, "p"))
    assert {(e["table_key"], e["format"]) for e in entries} == {
        ("core.items", "jsonl"),
        ("core.small", "jsonl"),
        ("core.items", "parquet"),
        ("docs.v_items", "parquet"),
    }
    # An object that vanished takes its entry with it at the next run.
    gone = next(f for f in jsonl.written if f.table_key == "core.small")
    moto_s3.client().delete_object(Bucket=s3_bucket, Key=f"p/{gone.path}")
    export_dataset_to_parquet(gateway, "items", target)
    entries = package_entries(package(moto_s3, s3_bucket, "p"))
    assert ("core.small", "jsonl") not in {(e["table_key"], e["format"]) for e in entries}
    assert ("core.items", "jsonl") in {(e["table_key"], e["format"]) for e in entries}


def test_orphans_older_than_the_grace_are_removed_and_reported(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = f"s3://{s3_bucket}/p"
    client = moto_s3.client()
    client.put_object(Bucket=s3_bucket, Key="p/notes.txt", Body=b"not ours")
    client.put_object(Bucket=s3_bucket, Key="p/20200101T000000Z-zzzz/x", Body=b"not a run id")
    first = export_all_parquet(gateway, target)
    second = export_all_parquet(gateway, target)
    assert second.removed == ()  # type: ignore[attr-defined]  # the first run's: too young
    monkeypatch.setenv("DUCKSETS_S3_ORPHAN_GRACE_SECONDS", "0")
    time.sleep(1.1)  # S3 times have one-second resolution
    third = export_all_jsonl(gateway, target)
    removed = {f"s3://{s3_bucket}/p/{f.path}" for f in first.written}
    assert set(third.removed) == removed  # type: ignore[attr-defined]
    stored = objects(moto_s3, s3_bucket, "p/")
    assert "p/notes.txt" in stored and "p/20200101T000000Z-zzzz/x" in stored
    live = {f"p/{e['file']}" for e in package_entries(package(moto_s3, s3_bucket, "p"))}
    assert live <= set(stored)  # the second run's objects are live: kept
    assert not any(f"p/{f.path}" in stored for f in first.written)


def test_checksums_are_right_when_duckdb_writes_its_own_way(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str
) -> None:
    # The user registered an s3 file system already: the export reads objects back to hash.
    import s3fs

    env = moto_s3.environment()
    gateway.con.register_filesystem(
        s3fs.S3FileSystem(
            key=env["AWS_ACCESS_KEY_ID"],
            secret=env["AWS_SECRET_ACCESS_KEY"],
            endpoint_url=moto_s3.endpoint,
            skip_instance_cache=True,
        )
    )
    result = export_datasets(gateway, f"s3://{s3_bucket}/p", ("jsonl", "parquet"))
    stored = objects(moto_s3, s3_bucket, "p/")
    for exported in result.written:
        content = stored[f"p/{exported.path}"]
        assert exported.sha256 == hashlib.sha256(content).hexdigest()
        assert exported.bytes == len(content)
    assert gateway.con.list_filesystems() == ["s3"]  # the user's, left registered


def test_without_checksums_the_sizes_are_still_recorded(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str
) -> None:
    result = export_all_parquet(gateway, f"s3://{s3_bucket}/p", checksums=False)
    stored = objects(moto_s3, s3_bucket, "p/")
    for exported in result.written:
        assert exported.sha256 is None and exported.bytes == len(stored[f"p/{exported.path}"])
    assert gateway.con.list_filesystems() == []  # the export's own file system is gone


def test_a_run_committed_meanwhile_is_merged_not_overwritten(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str, tmp_path: Path
) -> None:
    target = f"s3://{s3_bucket}/p"
    database = tmp_path / "other.db"
    config = StorageConfig(
        str(database), tables={"core.other": ITEMS}, parquet={"core.other": "other.parquet"}
    )
    with open_gateway(config) as other:
        other.con.execute("INSERT INTO core.other VALUES (1, 'x')")
    done = []

    def progress(outcome: ExportOutcome) -> None:
        if not done:  # another process commits its package while this run writes
            done.append(cli("export", str(database), "--out", target, "--file-format", "parquet"))

    export_all_jsonl(gateway, target, progress=progress)
    assert done[0].returncode == 0, done[0].stderr
    entries = package_entries(package(moto_s3, s3_bucket, "p"))
    assert {(e["table_key"], e["format"]) for e in entries} == {
        ("core.items", "jsonl"),
        ("core.small", "jsonl"),
        ("core.other", "parquet"),
    }


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ducksets"), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_cli_exports_to_s3(moto_s3: MotoServer, s3_bucket: str, tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    config = StorageConfig(
        str(database),
        tables={"core.items": ITEMS},
        jsonl={"core.items": "items.jsonl"},
        parquet={"core.items": "items.parquet"},
    )
    with open_gateway(config) as gateway:
        gateway.con.execute("INSERT INTO core.items VALUES (1, 'a'), (2, 'b')")
    done = cli("export", str(database), "--out", f"s3://{s3_bucket}/x/", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    files = {w["file"] for w in report["written"]}
    assert all(f.startswith(f"s3://{s3_bucket}/x/") for f in files) and len(files) == 2
    assert report["package"] == f"s3://{s3_bucket}/x/{MANIFEST_NAME}"
    assert not (tmp_path / "s3:").exists()


def test_without_s3fs_an_s3_target_names_the_extra(
    gateway: Gateway, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs fails as if not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'ducksets\[s3\]'") as caught:
        export_all_parquet(gateway, f"s3://{s3_bucket}/p")
    assert caught.value.extra == "s3"


def test_an_unreachable_endpoint_is_named_after_bounded_retries(
    gateway: Gateway, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    with pytest.raises(EndpointUnreachableError, match="cannot reach the S3 endpoint") as caught:
        export_all_parquet(gateway, f"s3://{s3_bucket}/p")
    assert caught.value.url == dead and dead in str(caught.value)
    assert "AWS_ENDPOINT_URL" in str(caught.value)
    assert isinstance(caught.value, ConnectionError) and isinstance(caught.value, ExportError)


def test_missing_credentials_are_one_error(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ObjectStoreAccessError, match="no S3 credentials found.*AWS_ACCESS_KEY_ID"):
        export_all_parquet(gateway, f"s3://{s3_bucket}/p")
    assert objects(moto_s3, s3_bucket) == {}


def test_a_missing_bucket_is_one_error(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str
) -> None:
    with pytest.raises(BucketMissingError, match="s3://no-such-bucket does not exist") as caught:
        export_all_parquet(gateway, "s3://no-such-bucket/p")
    assert caught.value.url == "s3://no-such-bucket" and isinstance(caught.value, FileNotFoundError)


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("s3://", "not a valid S3 bucket name"),
        ("s3://Upper/p", "not a valid S3 bucket name"),
        ("s3://bucket/a//b", "empty, '.' or '..' part"),
        ("s3://bucket/../b", "empty, '.' or '..' part"),
        ("s3://bucket/p*", "glob"),
        ("gs://bucket/p", "gs:// is not supported"),
    ],
)
def test_a_bad_url_is_refused_before_anything(
    gateway: Gateway, target: str, why: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidArgumentError, match=re.escape(why)) as caught:
        export_all_parquet(gateway, target)
    assert caught.value.parameter == "output_dir"
    assert list(tmp_path.iterdir()) == []  # no local directory named like the URL


def test_a_package_ducksets_did_not_write_is_left_alone(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str
) -> None:
    foreign = b'{"name": "theirs", "resources": []}'
    moto_s3.client().put_object(Bucket=s3_bucket, Key=f"p/{MANIFEST_NAME}", Body=foreign)
    with pytest.raises(ExportError, match="not a data package ducksets wrote"):
        export_all_parquet(gateway, f"s3://{s3_bucket}/p")
    assert objects(moto_s3, s3_bucket) == {f"p/{MANIFEST_NAME}": foreign}


def test_a_bad_grace_setting_is_a_config_error(
    gateway: Gateway, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUCKSETS_S3_ORPHAN_GRACE_SECONDS", "soon")
    with pytest.raises(ConfigError, match="DUCKSETS_S3_ORPHAN_GRACE_SECONDS"):
        export_all_parquet(gateway, f"s3://{s3_bucket}/p")


def test_a_dataset_failing_mid_copy_leaves_no_object_and_the_others_publish(
    moto_s3: MotoServer, s3_bucket: str
) -> None:
    boom = "SELECT CASE WHEN i = 150000 THEN error('boom') ELSE i END AS i FROM range(200000) r(i)"
    with open_memory_gateway(
        tables={"core.items": ITEMS},
        views={"docs.boom": boom},
        parquet={"core.items": "items.parquet"},
        jsonl={"docs.boom": "boom.jsonl"},
    ) as gateway:
        gateway.con.execute("INSERT INTO core.items VALUES (1, 'a')")
        result = export_datasets(gateway, f"s3://{s3_bucket}/p", ("jsonl", "parquet"))
    assert [f.dataset_name for f in result.failed] == ["boom"]
    assert "boom" in result.failed[0].reason
    stored = objects(moto_s3, s3_bucket, "p/")
    assert set(stored) == {f"p/{MANIFEST_NAME}", f"p/{result.written[0].path}"}


def test_objects_dropped_recently_wait_out_the_grace_however_old(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Readers of the package a run replaced may still read its objects: the grace counts
    # from when they were dropped, not from when they were written.
    monkeypatch.setenv("DUCKSETS_S3_ORPHAN_GRACE_SECONDS", "3")
    target = f"s3://{s3_bucket}/p"
    first = export_all_parquet(gateway, target)
    time.sleep(3.5)  # the first run's objects are older than the grace
    second = export_all_parquet(gateway, target)  # drops them from the package
    third = export_all_parquet(gateway, target)
    assert third.removed == ()  # type: ignore[attr-defined]
    stored = objects(moto_s3, s3_bucket, "p/")
    assert all(f"p/{f.path}" in stored for f in first.written)
    time.sleep(3.5)
    fourth = export_all_parquet(gateway, target)
    dropped = {f"s3://{s3_bucket}/p/{f.path}" for f in (*first.written, *second.written)}
    assert dropped <= set(fourth.removed)  # type: ignore[attr-defined]
    live = {f"p/{e['file']}" for e in package_entries(package(moto_s3, s3_bucket, "p"))}
    left = {k for k in objects(moto_s3, s3_bucket, "p/") if not k.endswith(RETIRED)}
    left.discard(f"p/{MANIFEST_NAME}")
    assert left == live | {f"p/{f.path}" for f in third.written}  # third: dropped just now


def test_a_file_name_duckdb_would_glob_fails_its_dataset(
    moto_s3: MotoServer, s3_bucket: str
) -> None:
    # DuckDB expands * ? [ in an s3:// URL it reads: such an object could not be read back.
    with open_memory_gateway(
        tables={"core.items": ITEMS, "core.odd": ITEMS},
        parquet={"core.items": "items.parquet", "core.odd": "odd[1].parquet"},
    ) as gateway:
        result = export_all_parquet(gateway, f"s3://{s3_bucket}/p")
    assert [f.dataset_name for f in result.failed] == ["odd"]
    assert "odd[1].parquet" in result.failed[0].reason
    assert "parquet_filename" in result.failed[0].reason
    stored = objects(moto_s3, s3_bucket, "p/")
    assert set(stored) == {f"p/{MANIFEST_NAME}", f"p/{result.written[0].path}"}


def test_a_path_made_from_a_url_is_refused_not_written_as_a_local_folder(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Path("s3://bucket/p") is the local path s3:/bucket/p: it used to export there.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidArgumentError, match="pass the URL as a str") as caught:
        export_all_parquet(gateway, Path("s3://bucket/p"))
    assert caught.value.parameter == "output_dir"
    assert list(tmp_path.iterdir()) == []


def test_write_dataset_manifest_refuses_a_url(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidArgumentError, match="writes its own package") as caught:
        write_dataset_manifest("s3://bucket/p", [], gateway=gateway)
    assert caught.value.parameter == "output_dir"
    assert list(tmp_path.iterdir()) == []


def test_the_package_describes_each_relation_as_the_exported_snapshot_held_it(
    gateway: Gateway, moto_s3: MotoServer, s3_bucket: str
) -> None:
    gateway.con.execute("COMMENT ON TABLE core.items IS 'as exported'")
    gateway.con.execute("COMMENT ON COLUMN core.items.id IS 'the key as exported'")
    gateway.con.execute("COMMENT ON VIEW docs.v_items IS 'the view as exported'")
    other = gateway.con.cursor()  # another connection, committing during the run

    def progress(outcome: ExportOutcome) -> None:
        other.execute("COMMENT ON TABLE core.items IS 'changed later'")
        other.execute("COMMENT ON COLUMN core.items.id IS 'changed later'")
        other.execute("COMMENT ON VIEW docs.v_items IS 'changed later'")
        other.execute("COMMENT ON TABLE core.small IS 'added later'")

    result = export_datasets(
        gateway, f"s3://{s3_bucket}/p", ("jsonl", "parquet"), progress=progress
    )
    assert result.ok and len(result.written) == 4
    resources = {
        r["path"].rsplit("/", 1)[-1]: r for r in package(moto_s3, s3_bucket, "p")["resources"]
    }
    for name in ("items.jsonl", "items.parquet"):
        assert resources[name]["description"] == "as exported"
        assert resources[name]["schema"]["fields"][0]["description"] == "the key as exported"
    assert resources["v_items.parquet"]["description"] == "the view as exported"
    assert "description" not in resources["small.jsonl"]
    # The comments did change, after the snapshot the objects were written from.
    now = gateway.con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'core' ORDER BY table_name"
    )
    assert now.fetchall() == [("changed later",), ("added later",)]
