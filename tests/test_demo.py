"""The demo database: built whole in a temporary file, then renamed into place."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ducksets import pack_version
from ducksets.demo import build_demo, demo_tour
from ducksets.errors import DatabaseLockedError, DucksetsError, NotADatabaseError


def _complete(path: Path) -> None:
    """The demo file holds every dataset and every row."""
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM metadata.datasets").fetchall() == [(6,)]
        assert con.execute("SELECT count(*) FROM core.goids").fetchall() == [(300,)]
        assert con.execute("SELECT count(*) FROM graph.call_graph_edges").fetchall() == [(600,)]


def test_build_leaves_one_file_and_no_wal(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    assert build_demo(path) == 6
    _complete(path)
    assert [p.name for p in tmp_path.iterdir()] == ["demo.duckdb"]


def test_an_existing_file_is_kept_without_replace(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    path.write_text("mine")
    with pytest.raises(DucksetsError, match="exists; pass --replace") as raised:
        build_demo(path)
    assert isinstance(raised.value, FileExistsError)
    assert raised.value.path == str(path)
    assert path.read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["demo.duckdb"]


def test_replace_swaps_in_a_whole_new_file_and_drops_a_stale_wal(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE old AS SELECT 1 AS x")
    path.with_name("demo.duckdb.wal").write_text("stale")
    assert build_demo(path, replace=True) == 6
    _complete(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.duckdb"]


def test_concurrent_replace_runs_each_leave_a_complete_database(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    for _ in range(3):
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "ducksets", "demo", str(path), "--replace"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        for run in runs:
            out, err = run.communicate()
            assert run.returncode == 0, err
            assert f"Built {path}" in out
            _complete(path)
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name not in {"x.db", "x-exports"})
    assert leftovers == []


def test_a_directory_or_a_missing_parent_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotADatabaseError, match="is a directory; give a database file"):
        build_demo(tmp_path, replace=True)
    with pytest.raises(NotADatabaseError, match="no directory"):
        build_demo(tmp_path / "nowhere" / "demo.duckdb")
    assert list(tmp_path.iterdir()) == []


def test_replace_only_ever_replaces_a_duckdb_database(tmp_path: Path) -> None:
    """--replace must not clobber a device, a pipe or someone's data file."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotADatabaseError, match="not a regular file"):
        build_demo(fifo, replace=True)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    data = tmp_path / "data.parquet"
    duckdb.sql(f"COPY (SELECT 1 AS x) TO '{data}' (FORMAT PARQUET)")
    before = data.read_bytes()
    with pytest.raises(NotADatabaseError, match="is not a DuckDB database file"):
        build_demo(data, replace=True)
    assert data.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.parquet", "pipe"]


def test_replace_refuses_a_database_another_process_has_open_for_writing(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    build_demo(path)
    before = path.read_bytes()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('open', flush=True); "
            "sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        with pytest.raises(DatabaseLockedError, match="in use by another process") as raised:
            build_demo(path, replace=True)
        assert raised.value.path == str(path)
    finally:
        holder.communicate("")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy.duckdb"]


def test_the_tour_is_text_for_the_caller_to_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.duckdb"
    text = demo_tour(path)
    assert capsys.readouterr() == ("", "")  # a library function: it prints nothing itself
    lines = text.splitlines()
    assert lines[0] == f"Built {path}: demo data, pack {pack_version()}, 6 datasets registered."
    assert (
        lines[-1] == f"  ducksets export {path} --file-format jsonl --out {tmp_path}/demo-exports"
    )
    assert sorted(
        p.name for p in (tmp_path / "demo-exports").iterdir() if p.name != ".ducksets.lock"
    ) == [
        "call_graph_edges.parquet",
        "datapackage.json",
        "function_summary.parquet",
        "goids.parquet",
    ]
    _complete(path)
