"""Attacks on exports: hostile catalog rows, a tampered pack, kill -9, a full disk, concurrency.

Every attack runs against a real database file and real directories, most in
a subprocess (``sys.executable``, the venv's Python) so that a process can be
killed or limited. The promise checked each time: nothing is written outside
what was asked, no file is half-written, and the manifest describes every
published file byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from ducksets import StorageConfig, TableSchema, open_gateway
from ducksets.export import LOCK_NAME, MANIFEST_NAME, TEMP_PREFIX, export_datasets, read_manifest
from ducksets.manifest import manifest_entries
from ducksets.schema import Column

BIN = Path(sys.executable).parent
ITEMS = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "VARCHAR")), ("id",))
NAMES = [f"d{i}" for i in range(8)]
ROWS = 5_000  # per dataset in the kill -9 loop: a run takes about as long as starting Python

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX locks and signals")


def build(db: Path, rows: int = 50, stamp: str = "v1") -> None:
    """Eight datasets d0..d7 (``rows`` rows each, labels carry ``stamp``), both formats named."""
    tables = {f"core.{n}": ITEMS for n in NAMES}
    config = StorageConfig(
        db,
        tables=tables,
        jsonl={f"core.{n}": f"{n}.jsonl" for n in NAMES},
        parquet={f"core.{n}": f"{n}.parquet" for n in NAMES},
    )
    with open_gateway(config) as gateway:
        restamp(gateway.con, rows, stamp)


def restamp(con: duckdb.DuckDBPyConnection, rows: int, stamp: str) -> None:
    for name in NAMES:
        con.execute(f"DELETE FROM core.{name}")
        con.execute(
            f"INSERT INTO core.{name} SELECT i, ? || '-' || i FROM range(?) r(i)", [stamp, rows]
        )


def python(code: str) -> subprocess.Popen[str]:
    """Start ``code`` in a fresh interpreter of this venv."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


EXPORT = """
    import sys, time
    from ducksets import StorageConfig, open_gateway
    from ducksets.export import export_datasets
    db, out, names = sys.argv[1], sys.argv[2], sys.argv[3:] or None
    with open_gateway(StorageConfig(db, read_only=True)) as gateway:
        print("ready", flush=True)  # the kill -9 loop aims at the export, not at start-up
        started = time.perf_counter()
        result = export_datasets(gateway, out, ("jsonl", "parquet"), names)
    print(len(result.written), len(result.failed), time.perf_counter() - started)
"""


def export_in_subprocess(db: Path, out: Path, *names: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(EXPORT), str(db), str(out), *names],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ducksets"), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def snapshot(directory: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes() if p.is_file() else None
        for p in directory.rglob("*")
    }


def rows_in(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    reader = "read_parquet" if path.suffix == ".parquet" else "read_json"
    return int(con.execute(f"SELECT count(*) FROM {reader}(?)", [str(path)]).fetchall()[0][0])


def assert_consistent(out: Path) -> dict[str, dict[str, object]]:
    """Every data file is listed, whole, and matches its entry byte for byte; no staging left."""
    entries = {e["file"]: e for e in manifest_entries(out)}
    names = {p.name for p in out.iterdir()}
    assert not {n for n in names if n.startswith(TEMP_PREFIX)}, names
    assert names - {MANIFEST_NAME, LOCK_NAME} == set(entries)
    with duckdb.connect() as con:
        for file, entry in entries.items():
            path = out / file
            assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), file
            assert entry["bytes"] == path.stat().st_size
            assert entry["rows"] == rows_in(con, path), file
    return entries


# --- hostile catalog rows and a tampered pack, through the CLI ---


@pytest.mark.parametrize(
    "row",
    [
        ("d0", "parquet_filename", "prod.duckdb"),
        ("d0", "parquet_filename", "prod.duckdb.wal"),
        ("d0", "jsonl_filename", "d1.parquet"),  # two datasets claiming one file
        (
            "d0",
            "jsonl_filename",
            "D0.parquet",
        ),  # one dataset, two formats, one file (ignoring case)
    ],
)
def test_hostile_catalog_rows_refuse_the_run(tmp_path: Path, row: tuple[str, str, str]) -> None:
    db = tmp_path / "prod.duckdb"
    build(db)
    name, column, filename = row
    with duckdb.connect(str(db)) as con:
        con.execute(f"UPDATE metadata.datasets SET {column} = ? WHERE name = ?", [filename, name])
    before = snapshot(tmp_path)
    done = cli("export", "prod.duckdb", "--file-format", "both", "--out", ".", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "'d0'" in line and "nothing was exported" in line
    assert filename in line or filename.lower() in line
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("reserved", ["datapackage.json", "manifest.json"])
def test_a_manifest_json_row_fails_only_that_dataset(tmp_path: Path, reserved: str) -> None:
    db = tmp_path / "prod.duckdb"
    build(db)
    with duckdb.connect(str(db)) as con:  # plain SQL: no Python check on the way in
        con.execute("UPDATE metadata.datasets SET jsonl_filename = ? WHERE name='d0'", [reserved])
    out = tmp_path / "out"
    done = cli("export", str(db), "--file-format", "jsonl", "--out", str(out))
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert [f["name"] for f in report["failed"]] == ["d0"] and "reserved" in done.stderr
    entries = assert_consistent(out)
    assert sorted(entries) == [f"{n}.jsonl" for n in NAMES[1:]]


@pytest.mark.parametrize("tampering", ["another path", "two statements"])
def test_a_tampered_export_sql_runs_nothing(tmp_path: Path, tampering: str) -> None:
    db = tmp_path / "prod.duckdb"
    build(db)
    elsewhere = tmp_path / "elsewhere.json"
    body = {
        "another path": f"'COPY (SELECT 42 AS x) TO ''{elsewhere}'' (FORMAT JSON)'",
        "two statements": '\'COPY (SELECT * FROM "core"."d0") TO \' '
        "|| metadata.quote_literal(output_dir || '/d0.jsonl') "
        "|| ' (FORMAT JSON); COPY (SELECT 1) TO ''" + str(elsewhere) + "'' (FORMAT JSON)'",
    }[tampering]
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE OR REPLACE MACRO metadata.dataset_export_sql("
            f"ds_name, fmt := 'parquet', output_dir := '.') AS ({body})"
        )
    out = tmp_path / "out"
    done = cli("export", str(db), "--file-format", "both", "--out", str(out))
    # The read-only gateway verifies the pack before running any of its macros;
    # the exporter's own check (tests/test_export.py) is the second line.
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "dataset_export_sql" in line and f"ducksets install {db}" in line
    assert not elsewhere.exists()
    assert not out.exists()


# --- kill -9, a full disk, concurrent processes ---


def test_kill_9_at_random_points_never_leaves_a_half_written_file(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    out = tmp_path / "out"
    build(db, rows=ROWS)
    first = export_in_subprocess(db, out)
    stdout, stderr = first.communicate(timeout=60)
    assert first.returncode == 0, stderr
    full_run = float(stdout.split()[-1])  # the export alone, without start-up
    assert_consistent(out)
    rng = random.Random(9)
    outcomes = {"killed": 0, "finished": 0, "left staging": 0, "cut mid-publish": 0}
    for iteration in range(20):
        with duckdb.connect(str(db)) as con:  # new content each time, so old and new differ
            restamp(con, ROWS, f"v{iteration}")
        process = export_in_subprocess(db, out)
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, full_run * 1.1))
        process.send_signal(signal.SIGKILL)
        code = process.wait(timeout=60)
        process.communicate()
        outcomes["killed" if code == -signal.SIGKILL else "finished"] += 1
        left = [p for p in out.iterdir() if p.name.startswith(TEMP_PREFIX)]
        publishing = [p for p in left if (p / "publish.json").exists()]
        outcomes["left staging"] += bool(left)
        outcomes["cut mid-publish"] += bool(publishing)
        # The next export into the directory (of one other file) rolls back and removes
        # whatever the killed run left; the files it did not touch must match the manifest.
        with open_gateway(StorageConfig(db, read_only=True)) as gateway:
            assert export_datasets(gateway, out, "jsonl", ["d7"]).ok
        entries = assert_consistent(out)
        assert len(entries) == 16
    print(f"kill -9 loop: {outcomes}, a full run took {full_run:.2f}s")
    assert outcomes["killed"] >= 10, outcomes


KILL_DURING_PUBLISH = """
    import os, signal, sys
    from ducksets import StorageConfig, open_gateway, _publishing
    from ducksets.export import export_datasets
    db, out, at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    backup, calls = _publishing._backup, []

    def backup_then_die(target, kept):
        # Only picks the moment: the kill itself is a real SIGKILL of this process.
        if len(calls) == at:
            os.kill(os.getpid(), signal.SIGKILL)
        calls.append(target)
        backup(target, kept)

    _publishing._backup = backup_then_die
    with open_gateway(StorageConfig(db, read_only=True)) as gateway:
        export_datasets(gateway, out, ("jsonl", "parquet"))
"""


@pytest.mark.parametrize("at", [0, 1, 9, 15, 16])  # 16: every data file replaced, not the manifest
def test_kill_9_during_the_publish_is_rolled_back(tmp_path: Path, at: int) -> None:
    db = tmp_path / "p.duckdb"
    out = tmp_path / "out"
    build(db, rows=50)
    first = export_in_subprocess(db, out)
    assert first.wait(timeout=60) == 0, first.communicate()
    before = snapshot(out)
    with duckdb.connect(str(db)) as con:
        restamp(con, 50, "v2")
    killed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILL_DURING_PUBLISH), str(db), str(out), str(at)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (staging,) = [p for p in out.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert (staging / "publish.json").exists()
    with open_gateway(StorageConfig(db, read_only=True)) as gateway:
        assert export_datasets(gateway, out, "parquet", ["d7"]).ok  # rolls back first
    assert_consistent(out)
    after = snapshot(out)
    for name in (MANIFEST_NAME, "d7.parquet"):
        before.pop(name), after.pop(name)
    assert after == before  # the killed run's files are all the old ones again


def test_a_full_disk_changes_nothing_and_says_where_and_why(tmp_path: Path) -> None:
    db = tmp_path / "f.duckdb"
    out = tmp_path / "out"
    build(db, rows=2)
    first = export_in_subprocess(db, out)
    assert first.wait(timeout=60) == 0, first.communicate()
    before = snapshot(out)
    with duckdb.connect(str(db)) as con:
        restamp(con, 2, "v2")  # the same sizes as v1: only the bytes differ
    # Data files of ~40 bytes fit under the limit; the manifest (~5 KB) does not.
    limited = python(
        f"""
        import resource, sys
        from ducksets import StorageConfig, open_gateway
        from ducksets.errors import ExportError
        from ducksets.export import export_datasets
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, hard))
        with open_gateway(StorageConfig({str(db)!r}, read_only=True)) as gateway:
            try:
                export_datasets(gateway, {str(out)!r}, ("jsonl", "parquet"))
            except ExportError as exc:
                print(exc)
                sys.exit(3)
        """
    )
    stdout, stderr = limited.communicate(timeout=60)
    assert limited.returncode == 3, (stdout, stderr)
    assert str(out / MANIFEST_NAME) in stdout and "File too large" in stdout
    assert snapshot(out) == before
    assert_consistent(out)


def test_eight_processes_exporting_into_one_directory_lose_no_entry(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    out = tmp_path / "out"
    build(db, rows=500)
    processes = [export_in_subprocess(db, out, name) for name in NAMES]
    for process in processes:
        assert process.wait(timeout=60) == 0, process.communicate()
        process.communicate()
    entries = assert_consistent(out)
    assert sorted(entries) == sorted(f"{n}.{f}" for n in NAMES for f in ("jsonl", "parquet"))
    json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))


# --- a hostile output directory: forged journals, user folders, odd lock files ---


def forged_staging(out: Path, journal: object, name: str = "evil") -> Path:
    """A dead staging directory whose journal says a publish was cut short."""
    staging = out / f"{TEMP_PREFIX}{name}"
    for sub in ("files", "old"):
        (staging / sub).mkdir(parents=True)
    (staging / ".lock").write_bytes(b"")
    (staging / "publish.json").write_text(json.dumps(journal), encoding="utf-8")
    (staging / MANIFEST_NAME).write_text("{}", encoding="utf-8")
    return staging


def export_d0(db: Path, out: Path) -> None:
    with open_gateway(StorageConfig(db, read_only=True)) as gateway:
        assert export_datasets(gateway, out, "jsonl", ["d0"]).ok


@pytest.mark.parametrize("name", ["../victim.txt", "/abs/victim.txt", "sub/x", "..", ""])
def test_a_forged_journal_never_deletes_outside_the_output_directory(
    tmp_path: Path, name: str
) -> None:
    db, out = tmp_path / "j.duckdb", tmp_path / "out"
    build(db, rows=2)
    victim = tmp_path / "victim.txt"
    victim.write_text("victim\n")
    staging = forged_staging(out, [name.replace("/abs", str(tmp_path)), MANIFEST_NAME])
    left = snapshot(staging)
    export_d0(db, out)
    assert victim.read_text() == "victim\n"
    assert snapshot(staging) == left  # not acted upon: left as it was


@pytest.mark.parametrize("name", ["../victim.txt", "/abs/victim.txt", "sub/x", ".."])
def test_a_forged_removal_never_restores_outside_the_output_directory(
    tmp_path: Path, name: str
) -> None:
    db, out = tmp_path / "j.duckdb", tmp_path / "out"
    build(db, rows=2)
    victim = tmp_path / "victim.txt"
    journal = {"publish": [MANIFEST_NAME], "remove": [name.replace("/abs", str(tmp_path))]}
    staging = forged_staging(out, journal)
    (staging / "victim.txt").write_text("forged\n")
    left = snapshot(staging)
    export_d0(db, out)
    assert not victim.exists()
    assert snapshot(staging) == left  # not acted upon: left as it was


def test_a_forged_backup_never_replaces_a_file_outside(tmp_path: Path) -> None:
    db, out = tmp_path / "j.duckdb", tmp_path / "out"
    build(db, rows=2)
    victim = tmp_path / "victim.txt"
    victim.write_text("victim\n")
    # old/x/../../victim.txt is a backup in the staging dir; out/x/../../victim.txt is outside.
    staging = forged_staging(out, ["x/../../victim.txt", MANIFEST_NAME])
    (staging / "old" / "x").mkdir()
    (out / "x").mkdir()
    (staging / "victim.txt").write_text("forged\n")
    export_d0(db, out)
    assert victim.read_text() == "victim\n"


@pytest.mark.parametrize("linked", ["old", "files"])
def test_a_symlinked_backup_folder_never_moves_outside_files(tmp_path: Path, linked: str) -> None:
    db, out = tmp_path / "j.duckdb", tmp_path / "out"
    build(db, rows=2)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    staging = forged_staging(out, ["secret.txt", MANIFEST_NAME])
    (staging / linked).rmdir()
    (staging / linked).symlink_to(outside)
    export_d0(db, out)
    assert (outside / "secret.txt").read_text() == "secret\n"
    assert not (out / "secret.txt").exists()


@pytest.mark.parametrize(
    "journal",
    [
        '{"a": 1}',
        "[1, 2]",
        "not json",
        '["manifest.json", "a\\u0000b"]',
        '["a.jsonl"]',
        '{"publish": ["datapackage.json"], "remove": "manifest.json"}',
        '{"publish": ["datapackage.json"]}',
    ],
)
def test_a_journal_that_is_not_a_list_of_names_is_left_alone(tmp_path: Path, journal: str) -> None:
    db, out = tmp_path / "j.duckdb", tmp_path / "out"
    build(db, rows=2)
    staging = forged_staging(out, [])
    (staging / "publish.json").write_text(journal, encoding="utf-8")
    left = snapshot(staging)
    export_d0(db, out)
    assert snapshot(staging) == left


def test_a_user_folder_with_the_staging_prefix_is_never_deleted(tmp_path: Path) -> None:
    db, out = tmp_path / "u.duckdb", tmp_path / "out"
    build(db, rows=2)
    notes = out / f"{TEMP_PREFIX}notes"
    notes.mkdir(parents=True)
    (notes / "important").write_text("mine\n")
    empty = out / f"{TEMP_PREFIX}empty"  # ducksets died between mkdir and its lock file
    empty.mkdir()
    user_file = out / f"{TEMP_PREFIX}a-file"
    user_file.write_text("mine too\n")
    fake_lock = out / f"{TEMP_PREFIX}fake-lock"
    fake_lock.mkdir()
    (fake_lock / ".lock").symlink_to(tmp_path / "nowhere")
    export_d0(db, out)
    assert (notes / "important").read_text() == "mine\n"
    assert user_file.read_text() == "mine too\n"
    assert (fake_lock / ".lock").is_symlink()
    assert not empty.exists()
    assert read_manifest(out) is not None


def run_cli_export(db: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``ducksets export``; a hang (a FIFO opened for writing) shows as TimeoutExpired."""
    return subprocess.run(
        [str(BIN / "ducksets"), "export", str(db), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@pytest.mark.parametrize("kind", ["fifo", "symlink", "dangling symlink", "directory"])
def test_an_odd_directory_lock_is_refused_without_following_it(tmp_path: Path, kind: str) -> None:
    db, out = tmp_path / "l.duckdb", tmp_path / "out"
    build(db, rows=2)
    out.mkdir()
    lock = out / LOCK_NAME
    outside = tmp_path / "outside"
    if kind == "fifo":
        os.mkfifo(lock)
    elif kind == "directory":
        lock.mkdir()
    else:
        if kind == "symlink":
            outside.write_text("")
        lock.symlink_to(outside)
    done = run_cli_export(db, out)
    assert done.returncode != 0
    assert str(lock) in done.stderr and "remove it" in done.stderr, done.stderr
    assert not outside.exists() or outside.read_text() == ""
    assert kind != "dangling symlink" or not outside.exists()
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]


def test_a_fifo_staging_lock_neither_hangs_nor_is_removed(tmp_path: Path) -> None:
    db, out = tmp_path / "l.duckdb", tmp_path / "out"
    build(db, rows=2)
    odd = out / f"{TEMP_PREFIX}odd"
    odd.mkdir(parents=True)
    os.mkfifo(odd / ".lock")
    done = run_cli_export(db, out)
    assert done.returncode == 0, done.stderr
    assert (odd / ".lock").exists()
    assert read_manifest(out) is not None


KILL_DURING_CLEANUP = """
    import os, signal, sys
    from ducksets import StorageConfig, open_gateway
    from ducksets.export import export_datasets
    db, out, at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    unlink, calls = os.unlink, []

    def unlink_then_die(*args, **kwargs):
        # Only picks the moment: the kill itself is a real SIGKILL of this process.
        if len(calls) == at:
            os.kill(os.getpid(), signal.SIGKILL)
        calls.append(args)
        unlink(*args, **kwargs)

    os.unlink = unlink_then_die  # the only unlinks of a good run remove its staging
    with open_gateway(StorageConfig(db, read_only=True)) as gateway:
        export_datasets(gateway, out, ("jsonl", "parquet"))
"""


@pytest.mark.parametrize("at", [0, 1, 2, 3])  # a run replacing d0.jsonl unlinks about 4 times
def test_kill_9_while_removing_staging_leaves_it_removable(tmp_path: Path, at: int) -> None:
    db, out = tmp_path / "r.duckdb", tmp_path / "out"
    build(db, rows=2)
    export_d0(db, out)  # so that the run below keeps backups of a replaced file in old/
    killed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILL_DURING_CLEANUP), str(db), str(out), str(at)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    export_d0(db, out)  # removes what the killed run left of its staging
    assert len(assert_consistent(out)) == 16


def test_a_file_another_export_is_publishing_is_not_taken_for_a_foreign_one(
    tmp_path: Path,
) -> None:
    """Files land just before their manifest: a run planned in between waits, then goes on."""
    db = tmp_path / "p.duckdb"
    build(db)
    side, out = tmp_path / "side", tmp_path / "out"
    with open_gateway(StorageConfig(db, read_only=True)) as gateway:
        export_datasets(gateway, side, "parquet", ["d0"])
        export_datasets(gateway, out, "parquet", ["d1"])
    publisher = python(
        f"""
        import fcntl, json, os, shutil, sys, time
        out, side = {str(out)!r}, {str(side)!r}
        with open(os.path.join(out, {LOCK_NAME!r}), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            shutil.copy2(os.path.join(side, "d0.parquet"), os.path.join(out, "d0.parquet"))
            print("published", flush=True)
            time.sleep(0.5)
            manifest = json.load(open(os.path.join(out, {MANIFEST_NAME!r})))
            extra = json.load(open(os.path.join(side, {MANIFEST_NAME!r})))["resources"]
            manifest["resources"] += extra
            with open(os.path.join(out, "m.tmp"), "w") as new:
                json.dump(manifest, new)
            os.replace(os.path.join(out, "m.tmp"), os.path.join(out, {MANIFEST_NAME!r}))
        """
    )
    assert publisher.stdout is not None and publisher.stdout.readline().strip() == "published"
    with open_gateway(StorageConfig(db, read_only=True)) as gateway:
        result = export_datasets(gateway, out, "parquet", ["d0"])
    publisher.wait(timeout=30)
    assert result.ok and [f.path.name for f in result.written] == ["d0.parquet"]
    assert read_manifest(out) is not None
    entries = {e["file"] for e in manifest_entries(out)}
    assert entries == {"d0.parquet", "d1.parquet"}
