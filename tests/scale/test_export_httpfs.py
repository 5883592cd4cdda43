"""Exports to S3 from DuckDB 1.5.5 with httpfs loaded, and from a DuckLake whose data is on S3.

With httpfs loaded, DuckDB writes the objects itself (credentials from its
``CREATE SECRET``); ducksets lists, hashes (reading each object back) and
writes the package through s3fs with the AWS environment. Both point at moto.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import duckdb_extensions
import pytest

from ducksets import install_macros, register_dataset
from ducksets.export import MANIFEST_NAME, export_datasets
from ducksets.gateway import Gateway, StorageConfig, open_memory_gateway
from ducksets.schema import Column, TableSchema
from s3_server import MotoServer

ITEMS = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "VARCHAR")), ("id",))


def stored(moto: MotoServer, bucket: str, prefix: str) -> dict[str, bytes]:
    client = moto.client()
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            found[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def check_export(
    con: duckdb.DuckDBPyConnection, moto: MotoServer, bucket: str, prefix: str, result: Any
) -> None:
    """Every object is listed in the package with its size and sha256, and reads back whole."""
    objects = stored(moto, bucket, f"{prefix}/")
    document = json.loads(objects.pop(f"{prefix}/{MANIFEST_NAME}"))
    paths = {resource["path"] for resource in document["resources"]}
    assert {f"{prefix}/{path}" for path in paths} == set(objects)
    for exported in result.written:
        content = objects[f"{prefix}/{exported.path}"]
        assert exported.bytes == len(content)
        assert exported.sha256 == hashlib.sha256(content).hexdigest()
        reader = "read_parquet" if exported.format == "parquet" else "read_json"
        url = f"s3://{bucket}/{prefix}/{exported.path}"
        (count,) = con.execute(f"SELECT count(*) FROM {reader}(?)", [url]).fetchall()[0]
        assert count == exported.rows


@pytest.fixture
def httpfs_gateway(moto_s3: MotoServer, s3_bucket: str) -> Iterator[Gateway]:
    """A gateway (two tables, a view) whose connection has httpfs and a secret for moto."""
    gateway = open_memory_gateway(
        tables={"core.items": ITEMS},
        views={"docs.v_items": "SELECT id, upper(label) AS label FROM core.items"},
        jsonl={"core.items": "items.jsonl"},
        parquet={"core.items": "items.parquet", "docs.v_items": "v_items.parquet"},
    )
    gateway.con.execute("INSERT INTO core.items SELECT i, 'item ' || i FROM range(5000) r(i)")
    duckdb_extensions.import_extension("httpfs", con=gateway.con)
    gateway.con.execute(moto_s3.secret_sql())
    with gateway:
        yield gateway


def test_httpfs_export_writes_objects_and_package(
    httpfs_gateway: Gateway, moto_s3: MotoServer, s3_bucket: str
) -> None:
    result = export_datasets(httpfs_gateway, f"s3://{s3_bucket}/out", ("jsonl", "parquet"))
    assert result.ok and len(result.written) == 3
    assert "s3" not in httpfs_gateway.con.list_filesystems()  # httpfs wrote, nothing registered
    check_export(httpfs_gateway.con, moto_s3, s3_bucket, "out", result)
    again = export_datasets(httpfs_gateway, f"s3://{s3_bucket}/out", "parquet")
    assert {str(f.path).split("/")[0] for f in again.written}.isdisjoint(
        {str(f.path).split("/")[0] for f in result.written}
    )


def test_ducklake_with_data_on_s3_exports_to_s3(
    moto_s3: MotoServer, s3_bucket: str, tmp_path: Path
) -> None:
    # The pack stays in the connection's own database: a gateway reads through cursors,
    # and a cursor does not inherit USE lake (it starts in the default database).
    con = duckdb.connect()
    for extension in ("httpfs", "ducklake"):
        duckdb_extensions.import_extension(extension, con=con)
    con.execute(moto_s3.secret_sql())
    catalog = (tmp_path / "catalog.ducklake").as_posix()
    con.execute(f"ATTACH 'ducklake:{catalog}' AS lake (DATA_PATH 's3://{s3_bucket}/lake/')")
    con.execute("CREATE SCHEMA lake.core")
    con.execute("CREATE TABLE lake.core.items (id BIGINT, label VARCHAR)")
    con.execute("INSERT INTO lake.core.items SELECT i, 'item ' || i FROM range(3000) r(i)")
    assert stored(moto_s3, s3_bucket, "lake/")  # the lake's own Parquet data is on S3
    install_macros(con)
    register_dataset(con, "lake.core.items", name="items", parquet_filename="items.parquet")
    with Gateway(StorageConfig(":memory:"), con) as gateway:
        result = export_datasets(gateway, f"s3://{s3_bucket}/exports", "parquet")
        assert result.ok and [f.rows for f in result.written] == [3000]
        check_export(con, moto_s3, s3_bucket, "exports", result)
