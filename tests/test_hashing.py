"""The SHA-256 of an exported file, hashed while its COPY writes it, is always the final file's."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from ducksets import Column, StorageConfig, TableSchema, open_gateway
from ducksets._export_copy import SMALL_TABLE_ROWS
from ducksets._hashing import CHUNK, MATURE, ZERO_RUN, Tail, file_digest
from ducksets.export import export_datasets

ROWS_SQL = """
    SELECT i AS id, 'label ' || (i % 1000) AS label, i / 7 AS score,
           TIMESTAMP '2026-01-01' + to_seconds(i) AS created_at, i % 3 = 0 AS flag,
           md5(i::VARCHAR) AS digest, 'zero' || chr(1) || i AS odd
    FROM range(?) AS r(i)
"""


def sha256_of(path: Path) -> tuple[int, str]:
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


@pytest.fixture
def hasher() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(1) as executor:
        yield executor


@pytest.fixture(scope="module")
def events() -> Iterator[duckdb.DuckDBPyConnection]:
    """300k rows (JSONL about 50 MB, Parquet about 15 MB) written by several threads."""
    con = duckdb.connect()
    con.execute("SET threads = 4")
    con.execute(f"CREATE TABLE events AS {ROWS_SQL}", [300_000])
    con.execute(f"CREATE TABLE small AS {ROWS_SQL}", [10])
    yield con
    con.close()


COPIES = [
    ("small", "small.jsonl", "FORMAT JSON"),
    ("small", "small.parquet", "FORMAT PARQUET"),
    ("events", "events.jsonl", "FORMAT JSON"),
    ("events", "events.jsonl.gz", "FORMAT JSON"),
    ("events", "events.parquet", "FORMAT PARQUET"),
    ("events", "events-zstd.parquet", "FORMAT PARQUET, COMPRESSION zstd"),
    ("events", "events-small-groups.parquet", "FORMAT PARQUET, ROW_GROUP_SIZE 2048"),
    ("events", "events-plain.parquet", "FORMAT PARQUET, COMPRESSION uncompressed"),
]


@pytest.mark.parametrize(("table", "name", "options"), COPIES)
def test_a_digest_hashed_beside_duckdbs_copy_is_the_final_files(
    events: duckdb.DuckDBPyConnection,
    hasher: ThreadPoolExecutor,
    tmp_path: Path,
    table: str,
    name: str,
    options: str,
) -> None:
    target = tmp_path / name
    for _ in range(3):  # the writer's threads race differently each time
        target.unlink(missing_ok=True)
        tail = Tail.start(hasher, target)
        assert tail.tailing
        events.execute(f"COPY (FROM {table}) TO '{target.as_posix()}' ({options})").fetchall()
        tail.writer_done()
        assert tail.result() == sha256_of(target)


def test_jsonl_is_hashed_right_behind_the_writer_with_nothing_read_twice(
    events: duckdb.DuckDBPyConnection, hasher: ThreadPoolExecutor, tmp_path: Path
) -> None:
    # JSONL holds no NUL byte: every byte read is final, so no region needs a second look.
    target = tmp_path / "events.jsonl"
    tail = Tail.start(hasher, target)
    events.execute(f"COPY (FROM events) TO '{target.as_posix()}' (FORMAT JSON)").fetchall()
    tail.writer_done()
    assert tail.result() == sha256_of(target)
    assert (tail.rechecked, tail.rehashed_from) == (0, None)


def slow_writer(path: Path, script: Callable[[int], None]) -> threading.Thread:
    """A thread that creates ``path`` like DuckDB does (O_CREAT|O_EXCL) and runs ``script(fd)``."""

    def run() -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            script(fd)
        finally:
            os.close(fd)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def tail_of(hasher: ThreadPoolExecutor, path: Path, script: Callable[[int], None]) -> Tail:
    """Hash ``path`` while a slow writer writes it; the tail, after its result was taken."""
    tail = Tail.start(hasher, path)
    slow_writer(path, script).join()
    tail.writer_done()
    assert tail.result() == sha256_of(path)
    return tail


BLOCK = bytes(range(256)) * 4096  # 1 MiB, with zero bytes


def test_a_slow_sequential_writer(hasher: ThreadPoolExecutor, tmp_path: Path) -> None:
    def script(fd: int) -> None:
        for i in range(12):
            os.write(fd, BLOCK[i:] + BLOCK[:i])
            time.sleep(0.02)

    tail_of(hasher, tmp_path / "sequential.bin", script)


def test_a_writer_filling_holes_late_as_duckdb_2_does(
    hasher: ThreadPoolExecutor, tmp_path: Path
) -> None:
    # Regions reserved in order but written out of order: each later region
    # lands first, leaving a hole of zeros that is filled a moment after.
    def script(fd: int) -> None:
        offset = 0
        for i in range(8):
            first, second = b"x" * 70_000 + bytes(i + 1), BLOCK[: 300_000 + i]
            os.pwrite(fd, second, offset + len(first))
            time.sleep(0.01)
            os.pwrite(fd, first, offset)
            offset += len(first) + len(second)
            time.sleep(0.01)

    tail_of(hasher, tmp_path / "holes.bin", script)


def late_hole(hasher: ThreadPoolExecutor, path: Path, hole: int) -> Tail:
    """A file whose region of ``hole`` bytes is written long after the ones behind it."""
    text = b"zero-free text\n" * 150_000  # 2.25 MB

    def script(fd: int) -> None:
        os.write(fd, text)
        time.sleep(MATURE * 2)  # the tail hashes the text, all of it final
        os.pwrite(fd, BLOCK[1:], len(text) + hole)  # starts with a non-zero byte
        time.sleep(MATURE * 20)  # long enough for a tail slowed down by a busy machine
        os.pwrite(fd, b"L" * hole, len(text))

    tail = tail_of(hasher, path, script)
    assert tail.rehashed_from is None or len(text) - CHUNK < tail.rehashed_from <= len(text)
    return tail


def test_a_short_hole_filled_after_it_looked_settled_is_caught_and_hashed_again(
    hasher: ThreadPoolExecutor, tmp_path: Path
) -> None:
    # The hole outlives MATURE: the tail hashes its zeros, the CRC-32 check
    # after the COPY sees the region changed, and the file is hashed again
    # from that region on.
    assert late_hole(hasher, tmp_path / "late.bin", ZERO_RUN - 1).rehashed_from is not None


def test_a_late_change_far_into_many_checked_regions_is_hashed_again_from_there(
    hasher: ThreadPoolExecutor, tmp_path: Path
) -> None:
    # 12 MiB with zero bytes, hashed while written, then checked in two threads
    # after the COPY: the changed region is in the second half.
    body = BLOCK[1:] + b"x"

    def script(fd: int) -> None:
        for _ in range(12):
            os.write(fd, body)
            time.sleep(MATURE * 2)
        os.pwrite(fd, body, len(body) * 12 + 8)  # an 8-byte hole before it
        time.sleep(MATURE * 20)
        os.pwrite(fd, b"12345678", len(body) * 12)

    tail = tail_of(hasher, tmp_path / "many.bin", script)
    assert tail.rechecked > 8 * len(body)
    assert tail.rehashed_from is not None
    assert len(body) * 11 < tail.rehashed_from <= len(body) * 12


def test_a_long_run_of_zeros_is_waited_for_and_never_hashed_early(
    hasher: ThreadPoolExecutor, tmp_path: Path
) -> None:
    assert late_hole(hasher, tmp_path / "late.bin", 4 << 20).rehashed_from is None


def test_a_file_truncated_and_written_again(hasher: ThreadPoolExecutor, tmp_path: Path) -> None:
    def script(fd: int) -> None:
        os.write(fd, b"first draft\n" * 200_000)
        time.sleep(MATURE * 2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, b"final text\n" * 100_000, 0)

    assert tail_of(hasher, tmp_path / "rewritten.jsonl", script).rehashed_from == 0


def test_a_file_replaced_by_a_rename(hasher: ThreadPoolExecutor, tmp_path: Path) -> None:
    target = tmp_path / "replaced.jsonl"

    def script(fd: int) -> None:
        os.write(fd, b"abandoned\n" * 100_000)
        time.sleep(MATURE)
        other = tmp_path / "tmp_replaced.jsonl"
        other.write_bytes(b"the real file\n" * 100_000)  # over SMALL_FILE: not hashed inline
        other.replace(target)

    assert tail_of(hasher, target, script).rehashed_from == 0


def test_a_file_that_exists_already_is_hashed_after_the_copy(
    hasher: ThreadPoolExecutor, tmp_path: Path
) -> None:
    target = tmp_path / "old.parquet"
    target.write_bytes(b"stale")
    tail = Tail.start(hasher, target)
    assert not tail.tailing
    target.write_bytes(BLOCK * 3)
    tail.writer_done()
    assert tail.result() == sha256_of(target) == file_digest(target)


def test_a_cancelled_tail_stops_and_has_no_digest(
    hasher: ThreadPoolExecutor, tmp_path: Path
) -> None:
    target = tmp_path / "never.jsonl"
    tail = Tail.start(hasher, target)
    tail.cancel()
    hasher.submit(lambda: None).result(timeout=10)  # the thread is free again
    with pytest.raises(OSError, match="not hashed"):
        tail.result()


def test_an_export_whose_copy_fails_midway_fails_alone_and_the_run_ends(tmp_path: Path) -> None:
    schema = TableSchema((Column("id", "BIGINT"),))
    # The view fails after DuckDB has written part of its file (200k rows, in 2048-row vectors).
    broken = (
        "SELECT CASE WHEN i < 150000 THEN i ELSE error('boom at ' || i) END AS id "
        "FROM range(200000) AS r(i)"
    )
    config = StorageConfig(
        tmp_path / "db.duckdb",
        tables={"main.good": schema},
        views={"main.broken": broken},
        jsonl={"main.broken": "broken.jsonl", "main.good": "good.jsonl"},
    )
    with open_gateway(config) as gateway:
        gateway.con.execute("INSERT INTO main.good SELECT range FROM range(200000)")
        result = export_datasets(gateway, tmp_path / "out", "jsonl")
    assert [f.path.name for f in result.written] == ["good.jsonl"]
    assert len(result.failed) == 1
    assert "boom" in result.failed[0].reason
    written = result.written[0]
    assert (written.bytes, written.sha256) == sha256_of(tmp_path / "out" / "good.jsonl")


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_an_exported_multi_megabyte_file_carries_the_sha256_of_its_bytes(
    tmp_path: Path, fmt: str
) -> None:
    schema = TableSchema((Column("id", "BIGINT"), Column("digest", "VARCHAR")))
    keys = [f"main.t{i}" for i in range(3)]
    files = {key: f"{key}.{fmt}" for key in keys}
    config = StorageConfig(
        tmp_path / "db.duckdb", tables=dict.fromkeys(keys, schema), **{fmt: files}
    )
    with open_gateway(config) as gateway:
        for i, key in enumerate(keys):
            gateway.con.execute(
                f"INSERT INTO {key} SELECT range, md5(range::VARCHAR) FROM range(?)",
                [100_000 * (i + 1)],
            )
        result = export_datasets(gateway, tmp_path / "out", fmt)
    assert len(result.written) == 3
    assert not result.failed
    for exported in result.written:
        assert (exported.bytes, exported.sha256) == sha256_of(exported.path)
    assert max(f.bytes for f in result.written) > 4_000_000


def test_a_fifo_in_the_files_place_is_refused_without_blocking(
    hasher: ThreadPoolExecutor, tmp_path: Path
) -> None:
    target = tmp_path / "fifo.jsonl"
    tail = Tail.start(hasher, target)
    os.mkfifo(target)
    tail.writer_done()
    with pytest.raises(OSError, match="not a regular file"):
        tail.result()
    hasher.submit(lambda: None).result(timeout=10)  # the thread is free again


def test_big_tables_and_views_are_hashed_while_written_small_tables_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = TableSchema((Column("id", "BIGINT"), Column("label", "VARCHAR")))
    config = StorageConfig(
        tmp_path / "db.duckdb",
        tables={"main.big": schema, "main.small": schema},
        views={"main.tiny_view": "SELECT * FROM main.small"},
        jsonl={"main.big": "big.jsonl", "main.small": "small.jsonl", "main.tiny_view": "v.jsonl"},
    )
    tailed: dict[str, bool] = {}
    start = Tail.start

    def spy(executor: ThreadPoolExecutor, path: Path, *, tail: bool = True) -> Tail:
        started = start(executor, path, tail=tail)
        tailed[path.name] = started.tailing
        return started

    monkeypatch.setattr(Tail, "start", spy)
    with open_gateway(config) as gateway:
        rows = "SELECT range, md5(range::VARCHAR) FROM range(?)"
        gateway.con.execute(f"INSERT INTO main.big {rows}", [SMALL_TABLE_ROWS + 1])
        gateway.con.execute(f"INSERT INTO main.small {rows}", [2])
        result = export_datasets(gateway, tmp_path / "out", "jsonl")
    # A view's size is unknown until it runs: it is tailed however small.
    assert tailed == {"big.jsonl": True, "small.jsonl": False, "v.jsonl": True}
    assert not result.failed
    for exported in result.written:
        assert (exported.bytes, exported.sha256) == sha256_of(exported.path)


def test_a_fifo_where_a_small_file_was_expected_is_refused_without_blocking(
    hasher: ThreadPoolExecutor, tmp_path: Path
) -> None:
    target = tmp_path / "fifo.jsonl"
    tail = Tail.start(hasher, target, tail=False)
    assert not tail.tailing
    os.mkfifo(target)
    tail.writer_done()
    with pytest.raises(OSError, match="not a regular file"):
        tail.result()
