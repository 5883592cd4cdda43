"""Attacks on the pack: tampering, ALTERed catalogs, clashing CLI installs, kill -9, full disks.

After each attack the pack is either the old one or the new one, whole, and
the catalog rows are all there or none: nothing half-done survives.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ducksets import (
    CatalogShapeError,
    ReadOnlyDatabaseError,
    install_macros,
    pack_script,
)
from ducksets.integrity import verify_pack

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BIN = Path(sys.executable).parent
DATASETS = 300  # enough for bootstrap to take a while: kills land inside it

TAMPERED = {
    "export_sql_writes_elsewhere": "CREATE OR REPLACE MACRO metadata.dataset_export_sql("
    "ds_name, fmt := 'parquet', output_dir := '.') AS "
    "('COPY (SELECT 1) TO ''/elsewhere/x'' (FORMAT CSV); DROP TABLE core.t')",
    "rows_reads_another_table": "CREATE OR REPLACE MACRO metadata.dataset_rows(table_key, "
    "row_limit := 10, row_offset := 0, row_order := 'scan') AS TABLE FROM duckdb_settings()",
    "drift_reports_nothing": "CREATE OR REPLACE MACRO metadata.catalog_drift() AS TABLE "
    "SELECT NULL AS table_key WHERE FALSE",
    "macro_dropped": "DROP MACRO metadata.dataset_exists",
}

CHILD = """
import sys
import duckdb
from ducksets import Column, TableSchema, bootstrap_metadata_datasets, install_macros
op, path = sys.argv[1], sys.argv[2]
con = duckdb.connect(path)
tables = {
    f"core.t{i}": TableSchema((Column("id", "BIGINT", False), Column("v", "TEXT")), ("id",))
    for i in range(int(sys.argv[3]))
}
print("ready", flush=True)
if op == "bootstrap":
    bootstrap_metadata_datasets(con, tables=tables)
else:
    install_macros(con)
con.close()
print("done", flush=True)
"""


def objects(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    """Pack macros and tables with their definitions and columns."""
    return con.execute(
        """
        SELECT function_name, function_type, macro_definition FROM duckdb_functions()
        WHERE schema_name = 'metadata' AND function_type IN ('macro', 'table_macro')
        UNION ALL
        SELECT table_name, column_name, data_type FROM duckdb_columns()
        WHERE schema_name = 'metadata'
        ORDER BY ALL
        """
    ).fetchall()


def catalog(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    datasets = con.execute("SELECT count(*) FROM metadata.datasets").fetchone()
    columns = con.execute("SELECT count(*) FROM metadata.dataset_columns").fetchone()
    assert datasets is not None and columns is not None
    return int(datasets[0]), int(columns[0])


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Database files to copy for each attack: empty, with pack 0.1.0, with the pack and tables."""
    root = tmp_path_factory.mktemp("templates")
    empty, old, bootstrap = root / "empty.db", root / "old.db", root / "bootstrap.db"
    with duckdb.connect(str(empty)) as con:
        con.execute("CREATE TABLE main.keep AS SELECT 1 AS x")
    with duckdb.connect(str(old)) as con:
        con.execute((FIXTURES / "pack-0.1.0.sql").read_text(encoding="utf-8"))
        con.execute("CREATE SCHEMA core; CREATE TABLE core.t AS SELECT 1 AS x")
        con.execute("INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, NULL, NULL)")
    with duckdb.connect(str(bootstrap)) as con:
        install_macros(con)
        con.execute("CREATE SCHEMA core")
        for i in range(DATASETS):
            con.execute(f"CREATE TABLE core.t{i} (id BIGINT NOT NULL PRIMARY KEY, v TEXT)")
    return {"install": empty, "upgrade": old, "bootstrap": bootstrap}


@pytest.mark.parametrize("attack", sorted(TAMPERED))
def test_tampered_pack_is_named_refused_read_only_and_repaired(tmp_path: Path, attack: str) -> None:
    path = tmp_path / "t.db"
    with duckdb.connect(str(path)) as con:
        install_macros(con)
        con.execute(TAMPERED[attack])
        [problem] = verify_pack(con)
    assert f"ducksets install {path}" in problem
    with (
        duckdb.connect(str(path), read_only=True) as con,
        pytest.raises(ReadOnlyDatabaseError, match="not intact"),
    ):
        install_macros(con)
    with duckdb.connect(str(path)) as con:
        install_macros(con)
        assert verify_pack(con) == ()


def test_altered_catalog_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with duckdb.connect(str(path)) as con:
        install_macros(con)
        con.execute("INSERT INTO metadata.datasets VALUES ('main.x', 'x', FALSE, NULL, NULL)")
        con.execute("ALTER TABLE metadata.datasets ALTER is_view TYPE VARCHAR")
    before = path.read_bytes()
    with (
        duckdb.connect(str(path)) as con,
        pytest.raises(CatalogShapeError, match="is_view VARCHAR"),
    ):
        install_macros(con)
    assert path.read_bytes() == before


def test_piped_cli_install_into_a_clashing_database_changes_no_byte(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    cli = [str(BIN / "duckdb"), "-no-init", str(path)]
    clash = "CREATE SCHEMA metadata; CREATE TABLE metadata.datasets (a INTEGER, b TEXT);"
    assert subprocess.run(cli, input=clash, text=True, check=False).returncode == 0
    before = path.read_bytes()
    piped = subprocess.run(cli, input=pack_script(), capture_output=True, text=True, check=False)
    assert piped.returncode == 1
    assert "ducksets install failed, nothing was changed: metadata.datasets has columns" in (
        piped.stderr
    )
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("c.db.wal")) or Path(f"{path}.wal").stat().st_size == 0


def kill_during(op: str, path: Path, delay: float | None) -> bool:
    """Run ``op`` in a child and SIGKILL it ``delay`` s after it is ready; True if it finished.

    ``delay=None`` kills it only after it said it is done (the control case).
    """
    count = str(DATASETS)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, op, str(path), count],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    if delay is None:
        assert child.stdout.readline().strip() == "done"
        child.wait()
        return True
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    return child.stdout.read().strip() == "done"


def test_kill_9_at_random_points_leaves_all_or_nothing(
    tmp_path: Path, templates: dict[str, Path]
) -> None:
    rng = random.Random(20261126)
    with duckdb.connect(str(templates["upgrade"]), read_only=True) as con:
        old_pack = objects(con)
    with duckdb.connect(":memory:") as con:
        install_macros(con)
        new_pack = objects(con)
    outcomes: dict[str, set[str]] = {"install": set(), "upgrade": set(), "bootstrap": set()}
    ops = sorted(outcomes)
    for round_number in range(24):
        op = ops[round_number % len(ops)]
        path = tmp_path / f"{round_number}.db"
        shutil.copy(templates[op], path)
        # Rounds 0-2 kill at once (before any commit), 3-5 after the end, the rest at random.
        delay = 0.0 if round_number < 3 else None if round_number < 6 else rng.uniform(0.0, 0.25)
        finished = kill_during(op, path, delay)
        with duckdb.connect(str(path)) as con:
            if op == "bootstrap":
                assert catalog(con) in {(0, 0), (DATASETS, 2 * DATASETS)}
                state = "new" if catalog(con)[0] else "old"
            else:
                state = "new" if objects(con) == new_pack or verify_pack(con) == () else "old"
                if state == "new":
                    assert verify_pack(con) == ()
                elif op == "upgrade":
                    assert objects(con) == old_pack
                else:
                    assert verify_pack(con)[0].startswith("no ducksets pack")
                if op == "upgrade":
                    assert con.execute("SELECT name FROM metadata.datasets").fetchall() == [("t",)]
            assert not finished or state == "new"
        outcomes[op].add(state)
    # Each operation was both cut off before its commit and completed.
    assert outcomes == {op: {"old", "new"} for op in ops}, outcomes


def test_disk_full_during_install_and_upgrade_changes_nothing(
    tmp_path: Path, templates: dict[str, Path]
) -> None:
    for op in ("install", "upgrade"):
        path = tmp_path / f"full-{op}.db"
        shutil.copy(templates[op], path)
        before = path.read_bytes()
        script = f"""
import resource, signal, duckdb
from ducksets import PackError, install_macros
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
con = duckdb.connect({str(path)!r})
resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.RLIM_INFINITY))
try:
    install_macros(con)
    print("installed")
except PackError as exc:
    print(type(exc).__name__, exc)
"""
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("PackError committing the install failed"), result.stdout
        assert "File too large" in result.stdout
        assert path.read_bytes() == before
        wal = Path(f"{path}.wal")
        assert not wal.exists() or wal.stat().st_size == 0


@pytest.mark.parametrize(
    "columns",
    [
        "table_key TEXT NOT NULL, name TEXT NOT NULL",
        "table_key TEXT COLLATE NOCASE PRIMARY KEY, name TEXT NOT NULL UNIQUE",
    ],
    ids=["no_keys", "nocase"],
)
def test_piped_cli_install_refuses_a_datasets_table_without_keys_or_with_a_collation(
    tmp_path: Path, columns: str
) -> None:
    """Review G/H: the right columns but no PRIMARY KEY/UNIQUE, or COLLATE NOCASE."""
    path = tmp_path / "k.db"
    cli = [str(BIN / "duckdb"), "-no-init", str(path)]
    clash = (
        f"CREATE SCHEMA metadata; CREATE TABLE metadata.datasets ({columns}, "
        "is_view BOOLEAN NOT NULL, jsonl_filename TEXT, parquet_filename TEXT);"
    )
    assert subprocess.run(cli, input=clash, text=True, check=False).returncode == 0
    before = path.read_bytes()
    piped = subprocess.run(cli, input=pack_script(), capture_output=True, text=True, check=False)
    assert piped.returncode == 1
    assert "ducksets install failed, nothing was changed: metadata.datasets has other keys" in (
        piped.stderr
    )
    assert path.read_bytes() == before
    with duckdb.connect(str(path)) as con:
        assert con.execute(
            "SELECT count(*) FROM duckdb_functions() WHERE schema_name = 'metadata'"
        ).fetchone() == (0,)
