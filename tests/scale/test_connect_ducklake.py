"""A ``ducklake:`` path opens the lake wherever ducksets takes a database path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ducksets._connect import connect
from ducksets.cli import main
from ducksets.integrity import verify_pack
from ducksets.pack import is_ducklake


def test_the_command_line_installs_registers_and_reads_a_ducklake_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = f"ducklake:{tmp_path / 'catalog.ducklake'}"
    con = connect(lake, read_only=False)  # a new lake; data beside the catalog
    try:
        con.execute("CREATE TABLE goids AS SELECT range AS id FROM range(3)")
    finally:
        con.close()
    assert main(["install", lake]) == 0
    assert main(["sync", lake, "--schema", "main"]) == 0
    capsys.readouterr()
    assert main(["rows", lake, "goids", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"id": 0}, {"id": 1}, {"id": 2}]
    con = connect(lake, read_only=True)
    try:
        assert is_ducklake(con)
        assert verify_pack(con) == ()
    finally:
        con.close()
