"""verify_exports and `ducksets verify`: real exports, then corrupted on purpose."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ducksets import (
    ArgumentTypeError,
    Gateway,
    InvalidArgumentError,
    StorageConfig,
    TableSchema,
    VerifyReport,
    export_datasets,
    open_gateway,
    register_dataset,
    verify_exports,
)
from ducksets.schema import Column

BIN = Path(sys.executable).parent
ITEMS = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "VARCHAR")), ("id",))
ROWS = 2000


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    """A database file with ``items`` (a table) and ``evens`` (a view), both with filenames."""
    config = StorageConfig(
        tmp_path / "verify.db",
        tables={"main.items": ITEMS},
        views={"main.evens": "SELECT id, label FROM main.items WHERE id % 2 = 0"},
        jsonl={"main.items": "items.jsonl", "main.evens": "evens.jsonl"},
        parquet={"main.items": "items.parquet", "main.evens": "evens.parquet"},
    )
    with open_gateway(config) as opened:
        opened.con.execute(f"INSERT INTO main.items SELECT i, 'item ' || i FROM range({ROWS}) r(i)")
        yield opened


@pytest.fixture
def out(gateway: Gateway, tmp_path: Path) -> Path:
    """A fresh export of both datasets in both formats."""
    directory = tmp_path / "out"
    result = export_datasets(gateway, directory, ("jsonl", "parquet"))
    assert result.ok and len(result.written) == 4
    return directory


def package(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / "datapackage.json").read_text())
    return document


def rewrite_package(directory: Path, document: dict[str, Any]) -> None:
    (directory / "datapackage.json").write_text(json.dumps(document), encoding="utf-8")


def resource(document: dict[str, Any], path: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in document["resources"] if r["path"] == path)
    return found


def codes(report: VerifyReport) -> set[tuple[str | None, str]]:
    return {(p.path, p.code) for p in report.problems}


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ducksets"), *map(str, args)], capture_output=True, text=True, timeout=120
    )


# --- a good export ---------------------------------------------------------------------


def test_a_fresh_export_verifies_with_every_fact_recomputed(out: Path) -> None:
    report = verify_exports(out)
    assert report.ok, report
    assert not report.problems and report.data_checked is False
    by_path = {f.path: f for f in report.files}
    assert set(by_path) == {"items.jsonl", "items.parquet", "evens.jsonl", "evens.parquet"}
    for path, verified in by_path.items():
        data = (out / path).read_bytes()
        assert verified.bytes == len(data)
        assert verified.sha256 == hashlib.sha256(data).hexdigest()
    assert by_path["items.jsonl"].rows == by_path["items.parquet"].rows == ROWS
    assert by_path["evens.parquet"].rows == ROWS // 2


def test_one_worker_and_many_find_the_same(out: Path) -> None:
    assert verify_exports(out, workers=1) == verify_exports(out, workers=8)


def test_full_reads_every_row_of_a_good_export_and_finds_nothing(out: Path) -> None:
    assert verify_exports(out, full=True).ok


def test_the_database_still_holding_the_exported_data_matches(out: Path, gateway: Gateway) -> None:
    report = verify_exports(out, database=gateway)
    assert report.ok and report.data_checked
    assert verify_exports(out, database=gateway.con).ok
    assert gateway.con.execute("SELECT count(*) FROM main.items").fetchall() == [(ROWS,)]


def test_every_duckdb_type_verifies_without_a_false_alarm(tmp_path: Path) -> None:
    # Parquet reads some types back as others (HUGEINT as DOUBLE, ENUM as VARCHAR,
    # UNION as STRUCT); a glob character in a file name must not become a pattern.
    with open_gateway(StorageConfig(tmp_path / "types.db")) as gw:
        gw.con.execute(
            "CREATE TYPE mood AS ENUM ('happy', 'sad');"
            "CREATE TABLE main.odd AS SELECT 'happy'::mood AS m,"
            " TIMESTAMP '2024-01-01 10:00' AS ts,"
            " '2024-01-01 10:00'::TIMESTAMP_MS AS tms, '\\x00ab'::BLOB AS b,"
            " 12345678901234567890123::HUGEINT AS h, 1::UHUGEINT AS uh, INTERVAL 3 DAY AS iv,"
            " uuid() AS u, {'a': 1} AS s, [1, 2] AS l, MAP {1: 'x'} AS mp, '101'::BIT AS bt,"
            " 1.5::DECIMAL(38, 2) AS dm, 'NaN'::DOUBLE AS nan, 'inf'::FLOAT AS inf,"
            " TIMESTAMPTZ '2024-01-01 10:00:00+02' AS tz, TIMETZ '10:00:00+02' AS ttz,"
            " [1, 2, 3]::INTEGER[3] AS arr, union_value(a := 1)::UNION(a INT, b VARCHAR) AS un,"
            " true AS bo, NULL::INT AS nl, DATE '2024-01-01' AS d FROM range(3)"
        )
        register_dataset(
            gw.con, "main.odd", jsonl_filename="odd[1].jsonl", parquet_filename="odd[1].parquet"
        )
        gw.refresh()
        assert export_datasets(gw, tmp_path / "out", ("jsonl", "parquet")).ok
        report = verify_exports(tmp_path / "out", database=gw, full=True)
    assert report.ok, report
    assert [f.rows for f in report.files] == [3, 3]


# --- the package itself ------------------------------------------------------------------


def test_a_directory_without_datapackage_json_is_one_problem(tmp_path: Path) -> None:
    report = verify_exports(tmp_path)
    assert [(p.path, p.code) for p in report] == [(None, "package_missing")]
    assert "no datapackage.json" in report.problems[0].message
    missing = verify_exports(tmp_path / "nowhere")
    assert [p.code for p in missing] == ["package_missing"]
    assert "does not exist" in missing.problems[0].message


def test_a_legacy_manifest_json_alone_says_to_export_again(tmp_path: Path) -> None:
    legacy = {"ducksets_manifest": 1, "datasets": []}
    (tmp_path / "manifest.json").write_text(json.dumps(legacy), encoding="utf-8")
    report = verify_exports(tmp_path)
    assert [p.code for p in report] == ["package_missing"]
    assert "manifest.json" in report.problems[0].message
    assert "export again" in report.problems[0].message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not a data package ducksets wrote"),
        ('["a", "list"]', "not a data package ducksets wrote"),
        (json.dumps({"name": "theirs", "resources": [{"path": "x.csv"}]}), "ducksets:format"),
        (json.dumps({"ducksets:format": 99, "resources": []}), "newer ducksets"),
    ],
    ids=["not-json", "not-an-object", "foreign-package", "newer-format"],
)
def test_a_foreign_or_unreadable_package_is_one_problem(
    tmp_path: Path, text: str, words: str
) -> None:
    (tmp_path / "datapackage.json").write_text(text, encoding="utf-8")
    report = verify_exports(tmp_path)
    assert [p.code for p in report] == ["package_invalid"]
    assert words in report.problems[0].message


def test_a_resource_of_the_wrong_shape_is_reported_and_the_others_are_verified(
    out: Path,
) -> None:
    document = package(out)
    resource(document, "items.jsonl")["format"] = "csv"
    resource(document, "evens.jsonl")["hash"] = "md5:abc"
    rewrite_package(out, document)
    report = verify_exports(out)
    assert codes(report) == {
        ("items.jsonl", "resource_invalid"),
        ("evens.jsonl", "resource_invalid"),
    }
    assert {f.path for f in report.files} == {"items.parquet", "evens.parquet"}


# --- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/etc/passwd", "not a relative POSIX path"),
        ("../secret.jsonl", "'..'"),
        ("sub/../../secret.jsonl", "'..'"),
        ("C:\\data\\x.jsonl", "not a relative POSIX path"),
        ("s3://bucket/x.jsonl", "URL"),
    ],
)
def test_a_resource_path_that_leaves_the_directory_is_refused_unread(
    out: Path, tmp_path: Path, path: str, words: str
) -> None:
    (tmp_path / "secret.jsonl").write_text('{"id": 1}\n', encoding="utf-8")
    document = package(out)
    resource(document, "items.jsonl")["path"] = path
    rewrite_package(out, document)
    report = verify_exports(out)
    assert codes(report) == {(path, "path_unsafe")}
    assert words in report.problems[0].message
    assert path not in {f.path for f in report.files}


def test_a_symlink_out_of_the_directory_is_refused_unread(out: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.jsonl"
    (out / "items.jsonl").rename(outside)
    (out / "items.jsonl").symlink_to(outside)
    report = verify_exports(out)
    assert codes(report) == {("items.jsonl", "path_unsafe")}
    assert "symlink" in report.problems[0].message


def test_a_symlink_inside_the_directory_is_followed(out: Path) -> None:
    (out / "sub").mkdir()
    (out / "items.jsonl").rename(out / "sub" / "items.jsonl")
    (out / "items.jsonl").symlink_to(out / "sub" / "items.jsonl")
    assert verify_exports(out).ok


def test_a_fifo_in_place_of_a_file_does_not_hang(out: Path) -> None:
    (out / "items.jsonl").unlink()
    os.mkfifo(out / "items.jsonl")
    report = verify_exports(out)
    assert codes(report) == {("items.jsonl", "file_unreadable")}


# --- files -----------------------------------------------------------------------------------


def test_a_missing_file_is_one_problem(out: Path) -> None:
    (out / "items.parquet").unlink()
    report = verify_exports(out)
    assert [(p.path, p.code) for p in report] == [("items.parquet", "file_missing")]
    assert next(f for f in report.files if f.path == "items.parquet").bytes is None


def test_a_truncated_parquet_file_is_caught(out: Path) -> None:
    target = out / "items.parquet"
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    report = verify_exports(out)
    assert codes(report) == {
        ("items.parquet", "bytes_mismatch"),
        ("items.parquet", "hash_mismatch"),
        ("items.parquet", "parquet_unreadable"),
    }
    unreadable = next(p for p in report if p.code == "parquet_unreadable")
    assert "not a readable Parquet file" in unreadable.message


def test_a_jsonl_line_that_is_not_json_is_named_by_its_number(out: Path) -> None:
    target = out / "items.jsonl"
    lines = target.read_bytes().splitlines(keepends=True)
    lines[41] = b'{"id": 41, "label": oops}\n'
    target.write_bytes(b"".join(lines))
    report = verify_exports(out)
    assert codes(report) == {
        ("items.jsonl", "bytes_mismatch"),
        ("items.jsonl", "hash_mismatch"),
        ("items.jsonl", "jsonl_invalid"),
    }
    invalid = next(p for p in report if p.code == "jsonl_invalid")
    assert invalid.message.startswith("line 42 is not JSON")


def test_a_truncated_jsonl_file_is_caught(out: Path) -> None:
    target = out / "items.jsonl"
    data = target.read_bytes()
    target.write_bytes(data[:-10])
    report = verify_exports(out)
    assert ("items.jsonl", "jsonl_invalid") in codes(report)
    assert ("items.jsonl", "hash_mismatch") in codes(report)


def test_a_same_size_change_is_caught_by_the_hash_alone(out: Path) -> None:
    target = out / "items.jsonl"
    data = target.read_bytes()
    target.write_bytes(data.replace(b"item 7", b"item 8", 1))
    report = verify_exports(out)
    assert codes(report) == {("items.jsonl", "hash_mismatch")}


@pytest.mark.parametrize(
    ("path", "key", "code"),
    [
        ("items.jsonl", "bytes", "bytes_mismatch"),
        ("items.parquet", "ducksets:bytes", "bytes_mismatch"),
        ("items.jsonl", "rows", "rows_mismatch"),
        ("items.parquet", "rows", "rows_mismatch"),
    ],
)
def test_a_package_claiming_other_counts_is_caught(
    out: Path, path: str, key: str, code: str
) -> None:
    document = package(out)
    resource(document, path)[key] += 1
    rewrite_package(out, document)
    assert codes(verify_exports(out)) == {(path, code)}


@pytest.mark.parametrize(
    ("path", "key"), [("items.jsonl", "hash"), ("evens.parquet", "ducksets:hash")]
)
def test_a_package_claiming_another_hash_is_caught(out: Path, path: str, key: str) -> None:
    document = package(out)
    resource(document, path)[key] = "sha256:" + "0" * 64
    rewrite_package(out, document)
    assert codes(verify_exports(out)) == {(path, "hash_mismatch")}


# --- schemas ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["items.jsonl", "items.parquet"])
def test_a_renamed_field_is_a_schema_mismatch(out: Path, path: str) -> None:
    document = package(out)
    resource(document, path)["schema"]["fields"][1]["name"] = "title"
    rewrite_package(out, document)
    report = verify_exports(out)
    assert codes(report) == {(path, "schema_mismatch")}
    assert "'label'" in report.problems[0].message or "label" in report.problems[0].message


def test_a_parquet_column_of_another_type_is_a_schema_mismatch(out: Path) -> None:
    document = package(out)
    resource(document, "items.parquet")["schema"]["fields"][0]["ducksets:duckdbType"] = "VARCHAR"
    rewrite_package(out, document)
    report = verify_exports(out)
    assert codes(report) == {("items.parquet", "schema_mismatch")}
    assert report.problems[0].message == "column 'id' is BIGINT, the package says VARCHAR"


def test_a_jsonl_value_of_another_kind_is_a_schema_mismatch(out: Path) -> None:
    document = package(out)
    resource(document, "items.jsonl")["schema"]["fields"][1]["ducksets:duckdbType"] = "BIGINT"
    rewrite_package(out, document)
    report = verify_exports(out)
    assert codes(report) == {("items.jsonl", "schema_mismatch")}
    assert "'label'" in report.problems[0].message


def test_without_checksums_every_jsonl_line_is_read(gateway: Gateway, tmp_path: Path) -> None:
    directory = tmp_path / "bare"
    assert export_datasets(gateway, directory, ("jsonl", "parquet"), checksums=False).ok
    assert "hash" not in resource(package(directory), "items.jsonl")
    assert verify_exports(directory).ok
    target = directory / "items.jsonl"
    target.write_bytes(target.read_bytes().replace(b'"label":"item 1999"', b'"label":item 1999"'))
    report = verify_exports(directory)
    assert codes(report) == {("items.jsonl", "bytes_mismatch"), ("items.jsonl", "jsonl_invalid")}
    assert "line 2000 is not JSON" in str(report)


# --- the database ----------------------------------------------------------------------------


def test_data_that_changed_since_the_export_is_reported(out: Path, gateway: Gateway) -> None:
    gateway.con.execute("INSERT INTO main.items VALUES (5000, 'new'), (5002, 'newer')")
    report = verify_exports(out, database=gateway)
    assert codes(report) == {
        ("items.jsonl", "data_rows_mismatch"),
        ("items.parquet", "data_rows_mismatch"),
        ("evens.jsonl", "data_rows_mismatch"),
        ("evens.parquet", "data_rows_mismatch"),
    }
    assert f"main.items has {ROWS + 2} rows now, the package says {ROWS}" in str(report)
    gateway.con.execute("ALTER TABLE main.items ADD COLUMN extra INTEGER")
    assert ("items.parquet", "data_schema_mismatch") in codes(verify_exports(out, database=gateway))


def test_a_dropped_relation_and_a_broken_view_are_reported(out: Path, gateway: Gateway) -> None:
    # the view evens reads main.items, which is gone
    gateway.con.execute("ALTER TABLE main.items RENAME TO gone")
    report = verify_exports(out, database=gateway)
    assert codes(report) == {
        ("items.jsonl", "data_missing"),
        ("items.parquet", "data_missing"),
        ("evens.jsonl", "data_unreadable"),
        ("evens.parquet", "data_unreadable"),
    }
    assert "no table or view main.items in the database" in str(report)


# --- arguments and reports -------------------------------------------------------------------


def test_wrong_arguments_raise_one_typed_error(out: Path) -> None:
    with pytest.raises(ArgumentTypeError):
        verify_exports(None)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match="database must be"):
        verify_exports(out, database="my.db")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="workers"):
        verify_exports(out, workers=0)
    with pytest.raises(ArgumentTypeError, match="full"):
        verify_exports(out, full=1)  # type: ignore[arg-type]


def test_the_report_renders_as_json_text_and_html(out: Path) -> None:
    (out / "items.parquet").unlink()
    report = verify_exports(out)
    document = json.loads(json.dumps(report.to_dict()))
    assert document["ok"] is False
    assert document["problems"] == [
        {
            "path": "items.parquet",
            "resource": "items-parquet",
            "code": "file_missing",
            "message": "cannot read items.parquet: not found",
        }
    ]
    assert "items.parquet: file_missing: cannot read items.parquet" in repr(report)
    assert "<table>" in report._repr_html_() and "file_missing" in report._repr_html_()


# --- the command line ------------------------------------------------------------------------


def test_cli_exit_0_when_everything_matches(out: Path, gateway: Gateway, tmp_path: Path) -> None:
    gateway.close()
    done = run_cli("verify", out, "--database", tmp_path / "verify.db")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("checked against the package and the database: ok")
    assert done.stderr == ""


def test_cli_one_line_per_problem_and_exit_1(out: Path) -> None:
    (out / "items.parquet").write_bytes(b"PAR1 truncated")
    lines = (out / "items.jsonl").read_bytes().splitlines(keepends=True)
    (out / "items.jsonl").write_bytes(b"".join([b"not json\n", *lines[1:]]))
    done = run_cli("verify", out)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    printed = done.stdout.splitlines()
    assert printed[:-1] == [
        "items.jsonl: bytes_mismatch: " + printed[0].split(": ", 2)[2],
        "items.jsonl: hash_mismatch: " + printed[1].split(": ", 2)[2],
        "items.jsonl: jsonl_invalid: line 1 is not JSON "
        "(Expecting value: line 1 column 1 (char 0))",
        "items.parquet: bytes_mismatch: 14 bytes, the package says "
        + str(resource(package(out), "items.parquet")["ducksets:bytes"]),
        "items.parquet: hash_mismatch: " + printed[4].split(": ", 2)[2],
        "items.parquet: parquet_unreadable: " + printed[5].split(": ", 2)[2],
    ]
    assert printed[-1].endswith("checked against the package: 6 problem(s)")


def test_cli_json_on_request(out: Path) -> None:
    (out / "evens.jsonl").unlink()
    done = run_cli("verify", out, "--format", "json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert [(p["path"], p["code"]) for p in report["problems"]] == [("evens.jsonl", "file_missing")]


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("missing", "no datapackage.json"),
        ("foreign", "not a data package ducksets wrote"),
    ],
)
def test_cli_bad_package_is_one_line_and_exit_1(tmp_path: Path, setup: str, words: str) -> None:
    if setup == "foreign":
        (tmp_path / "datapackage.json").write_text('{"resources": []}', encoding="utf-8")
    done = run_cli("verify", tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines()[0].startswith("datapackage.json: package_")
    assert words in done.stdout


def test_cli_bad_database_and_bad_usage(out: Path, tmp_path: Path) -> None:
    (tmp_path / "notdb").write_text("hello", encoding="utf-8")
    done = run_cli("verify", out, "--database", tmp_path / "notdb")
    assert done.returncode == 1
    assert done.stderr.startswith("ducksets verify: ") and len(done.stderr.splitlines()) == 1
    usage = run_cli("verify")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_verify_does_not_change_the_directory(out: Path) -> None:
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
    verify_exports(out, full=True)
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()} == before


def test_a_duckdb_connection_without_the_pack_can_be_compared(out: Path, tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE main.items AS SELECT i::BIGINT AS id FROM range(3) r(i)")
    report = verify_exports(out, database=con)
    assert ("items.parquet", "data_rows_mismatch") in codes(report)
    assert ("items.parquet", "data_schema_mismatch") in codes(report)
    assert ("evens.jsonl", "data_missing") in codes(report)


def test_a_value_of_another_kind_deep_in_a_jsonl_file_is_named(out: Path) -> None:
    target = out / "items.jsonl"
    target.write_bytes(target.read_bytes().replace(b'{"id":1500,', b'{"id":"1500",'))
    report = verify_exports(out)
    mismatch = next(p for p in report if p.code == "schema_mismatch")
    assert mismatch.path == "items.jsonl"
    assert mismatch.message.startswith("line 1501 has 'id' = '1500', not a BIGINT")


def test_full_reads_every_line_even_when_the_hash_matches(out: Path) -> None:
    # The package claims a kind the first line happens to satisfy (a NULL) but later lines do not.
    target = out / "items.jsonl"
    lines = target.read_bytes().splitlines(keepends=True)
    lines[0] = lines[0].replace(b'"label":"item 0"', b'"label":null')
    target.write_bytes(b"".join(lines))
    data = target.read_bytes()
    document = package(out)
    items = resource(document, "items.jsonl")
    items["schema"]["fields"][1]["ducksets:duckdbType"] = "BOOLEAN"
    items["bytes"], items["hash"] = len(data), "sha256:" + hashlib.sha256(data).hexdigest()
    rewrite_package(out, document)
    assert verify_exports(out).ok  # the hash vouches; only the first line is read
    report = verify_exports(out, full=True)
    assert codes(report) == {("items.jsonl", "schema_mismatch")}
    assert report.problems[0].message.startswith("line 2 has 'label' = 'item 1', not a BOOLEAN")


# --- s3:// exports -----------------------------------------------------------------------------


def test_an_s3_export_verifies_and_its_damage_is_found(
    gateway: Gateway, moto_s3: Any, s3_bucket: str
) -> None:
    url = f"s3://{s3_bucket}/exports"
    assert export_datasets(gateway, url, ("jsonl", "parquet")).ok
    report = verify_exports(url, database=gateway, full=True)
    assert report.ok, report
    assert {f.rows for f in report.files} == {ROWS, ROWS // 2}
    assert all(f.path.count("/") == 1 for f in report.files)  # <run-id>/<file>
    client = moto_s3.client()
    by_name = {f.path.split("/")[1]: f.path for f in report.files}
    parquet_key = f"exports/{by_name['items.parquet']}"
    data = client.get_object(Bucket=s3_bucket, Key=parquet_key)["Body"].read()
    client.put_object(Bucket=s3_bucket, Key=parquet_key, Body=data[: len(data) // 2])
    client.delete_object(Bucket=s3_bucket, Key=f"exports/{by_name['evens.jsonl']}")
    damaged = verify_exports(url)
    assert codes(damaged) == {
        (by_name["items.parquet"], "bytes_mismatch"),
        (by_name["items.parquet"], "hash_mismatch"),
        (by_name["items.parquet"], "parquet_unreadable"),
        (by_name["evens.jsonl"], "file_missing"),
    }


def test_an_s3_prefix_without_a_package_is_one_problem(s3_bucket: str) -> None:
    report = verify_exports(f"s3://{s3_bucket}/nothing-here")
    assert [p.code for p in report] == ["package_missing"]
    assert f"s3://{s3_bucket}/nothing-here/datapackage.json" in report.problems[0].message


def test_cli_verifies_an_s3_export(gateway: Gateway, s3_bucket: str) -> None:
    url = f"s3://{s3_bucket}/exports"
    assert export_datasets(gateway, url, ("parquet",)).ok
    done = run_cli("verify", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("checked against the package: ok")


def test_a_type_in_the_package_cannot_smuggle_sql(out: Path, tmp_path: Path) -> None:
    # A downloaded package is untrusted: its DuckDB types must never reach SQL as text.
    pwned = tmp_path / "pwned.csv"
    smuggled = (
        f"INTEGER) AS c) TO '{tmp_path / 'x.parquet'}' (FORMAT PARQUET); "
        f"COPY (SELECT 42 AS pwned) TO '{pwned}' (FORMAT CSV); "
        "COPY (SELECT CAST(NULL AS INTEGER"
    )
    document = package(out)
    resource(document, "items.parquet")["schema"]["fields"][0]["ducksets:duckdbType"] = smuggled
    rewrite_package(out, document)
    report = verify_exports(out)
    assert codes(report) == {("items.parquet", "schema_mismatch")}
    assert not pwned.exists()


def test_an_s3_resource_path_with_a_glob_is_refused_unread(
    gateway: Gateway, moto_s3: Any, s3_bucket: str
) -> None:
    # DuckDB expands * ? [ in an s3:// URL: the package would name other objects than it lists.
    url = f"s3://{s3_bucket}/exports"
    assert export_datasets(gateway, url, ("parquet",)).ok
    client = moto_s3.client()
    key = "exports/datapackage.json"
    document = json.loads(client.get_object(Bucket=s3_bucket, Key=key)["Body"].read())
    items = next(r for r in document["resources"] if r["path"].endswith("/items.parquet"))
    run = items["path"].split("/")[0]
    items["path"] = f"{run}/i*.parquet"
    client.put_object(Bucket=s3_bucket, Key=key, Body=json.dumps(document).encode())
    report = verify_exports(url)
    assert codes(report) == {(f"{run}/i*.parquet", "path_unsafe")}


def test_a_deeply_nested_jsonl_line_is_a_problem_not_a_crash(out: Path) -> None:
    target = out / "items.jsonl"
    lines = target.read_bytes().splitlines(keepends=True)
    lines[3] = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    target.write_bytes(b"".join(lines))
    report = verify_exports(out)
    invalid = next(p for p in report if p.code == "jsonl_invalid")
    assert invalid.message.startswith("line 4 is not JSON")


def test_an_endless_jsonl_line_is_not_read_into_memory(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ducksets import _verify_files

    monkeypatch.setattr(_verify_files, "_LINE_LIMIT", 1 << 20)
    target = out / "items.jsonl"
    lines = target.read_bytes().splitlines(keepends=True)
    lines[1] = b'{"id": "' + b"x" * (3 << 20) + b'"}\n'
    target.write_bytes(b"".join(lines))
    report = verify_exports(out)
    invalid = next(p for p in report if p.code == "jsonl_invalid")
    assert invalid.message == "line 2 is longer than 1 MiB; verify does not parse it"


def test_a_damaged_parquet_page_is_found_when_no_hash_vouches(
    gateway: Gateway, tmp_path: Path
) -> None:
    # Same size, footer intact: only decoding every page finds it.
    directory = tmp_path / "bare"
    assert export_datasets(gateway, directory, ("parquet",), checksums=False).ok
    target = directory / "items.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 4 : len(data) // 4 + 64] = b"\xff" * 64
    target.write_bytes(bytes(data))
    report = verify_exports(directory)
    assert codes(report) == {("items.parquet", "parquet_unreadable")}


def test_an_export_below_a_hive_style_folder_verifies(gateway: Gateway, tmp_path: Path) -> None:
    # DuckDB would read year=2024 in the path as a column of every file below it.
    directory = tmp_path / "year=2024" / "out"
    assert export_datasets(gateway, directory, ("parquet",)).ok
    assert verify_exports(directory, full=True).ok


# --- Parquet exported as a folder of files -------------------------------------------------------


@pytest.fixture
def parted(gateway: Gateway, tmp_path: Path) -> Path:
    """``items`` partitioned by ``id % 3`` (a folder of files), ``evens`` a single file."""
    gateway.con.execute("ALTER TABLE main.items ADD COLUMN part INTEGER")
    gateway.con.execute("UPDATE main.items SET part = id % 3")
    gateway.refresh()
    directory = tmp_path / "parted"
    result = export_datasets(gateway, directory, ("parquet",), partition_by={"items": ["part"]})
    assert result.ok
    return directory


def test_a_folder_of_parquet_files_verifies_file_by_file(parted: Path, gateway: Gateway) -> None:
    report = verify_exports(parted, database=gateway, full=True)
    assert report.ok, report
    parts = [f for f in report.files if f.path.startswith("items.parquet/")]
    assert len(parts) == 3 and sum(f.rows or 0 for f in parts) == ROWS


def test_a_damaged_part_is_named_by_its_path(parted: Path) -> None:
    part = next(p for p in sorted((parted / "items.parquet").rglob("*.parquet")))
    part.write_bytes(part.read_bytes()[:100])
    report = verify_exports(parted)
    relative = part.relative_to(parted).as_posix()
    assert codes(report) == {
        (relative, "bytes_mismatch"),
        (relative, "hash_mismatch"),
        (relative, "parquet_unreadable"),
        ("items.parquet", "bytes_mismatch"),  # the folder's total
    }


def test_a_folder_total_the_files_do_not_add_up_to_is_named(parted: Path) -> None:
    document = package(parted)
    items = next(r for r in document["resources"] if isinstance(r["path"], list))
    items["ducksets:rows"] += 5
    rewrite_package(parted, document)
    report = verify_exports(parted)
    assert codes(report) == {("items.parquet", "rows_mismatch")}
    assert report.problems[0].message == (
        f"its 3 files hold {ROWS} rows, the package says {ROWS + 5}"
    )


def test_a_file_the_package_does_not_list_in_a_folder_is_named(parted: Path) -> None:
    # Readers of the folder (read_parquet('items.parquet/**')) would read its rows too.
    first = next(iter(sorted((parted / "items.parquet").rglob("*.parquet"))))
    stray = first.with_name("stray.parquet")
    stray.write_bytes(first.read_bytes())
    report = verify_exports(parted)
    assert codes(report) == {("items.parquet", "file_unlisted")}
    assert stray.relative_to(parted).as_posix() in report.problems[0].message


def test_a_stray_file_in_another_partition_of_a_one_partition_folder_is_named(
    gateway: Gateway, tmp_path: Path
) -> None:
    # Every listed file sits in part=7, but the folder is items.parquet: a file
    # in part=8 is read by read_parquet('items.parquet/**') all the same.
    gateway.con.execute("ALTER TABLE main.items ADD COLUMN part INTEGER")
    gateway.con.execute("UPDATE main.items SET part = 7")
    gateway.refresh()
    directory = tmp_path / "one-partition"
    result = export_datasets(gateway, directory, ("parquet",), partition_by={"items": ["part"]})
    assert result.ok and verify_exports(directory).ok
    (listed,) = (directory / "items.parquet").rglob("*.parquet")
    stray = directory / "items.parquet" / "part=8" / "data_0.parquet"
    stray.parent.mkdir()
    stray.write_bytes(listed.read_bytes())
    report = verify_exports(directory)
    assert codes(report) == {("items.parquet", "file_unlisted")}
    assert "items.parquet/part=8/data_0.parquet" in report.problems[0].message


def test_a_connection_that_used_another_database_is_checked_there(tmp_path: Path) -> None:
    # verify's cursor starts where the caller's USE put the connection (a
    # DuckLake attached and USEd looks like this), not in the default catalog.
    from ducksets import Gateway, StorageConfig, install_macros

    con = duckdb.connect()
    con.execute(f"ATTACH '{tmp_path / 'other.duckdb'}' AS other")
    con.execute("USE other")
    install_macros(con)
    con.execute("CREATE TABLE items AS SELECT range AS id FROM range(5)")
    con.execute(
        "INSERT INTO metadata.datasets VALUES ('main.items', 'items', false, NULL, 'items.parquet')"
    )
    with Gateway(StorageConfig(), con) as gateway:
        assert export_datasets(gateway, tmp_path / "out", "parquet").ok
        assert verify_exports(tmp_path / "out", database=gateway).ok
        assert verify_exports(tmp_path / "out", database=con).ok
