"""The ducksets command line, run in-process (``main(argv)`` with capsys).

Three smoke tests start processes, one for each way in that only a process
shows: the installed ``ducksets`` script (with SIGPIPE when the reader of a
pipe goes away), ``python -m ducksets`` (with stdout closed), and the real
``duckdb`` binary, another DuckDB build that must run the piped pack script
and the demo's suggested lines without Python.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ducksets import (
    Column,
    TableSchema,
    install_macros,
    pack_script,
    pack_version,
    register_dataset,
)
from ducksets.cli import main
from ducksets.demo import build_demo

BIN = Path(sys.executable).parent
VERBS = (
    "install",
    "sql",
    "version",
    "demo",
    "lint",
    "check",
    "datasets",
    "show",
    "drift",
    "sync",
    "rows",
    "export",
)
DB_VERBS = ("install", "version", "check", "datasets", "show", "drift", "sync", "rows", "export")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``main(argv)`` in this process; returns (exit code, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's --help, --version and usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def inproc(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """``main(args)`` in this process, shaped like a finished subprocess."""
    code, out, err = cli(capsys, *args)
    return subprocess.CompletedProcess(["ducksets", *args], code, out, err)


def run(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=cwd, check=False)


def exported_files(directory: Path) -> list[str]:
    """The files an export left, without the directory's lock file (kept for later runs)."""
    return sorted(p.name for p in directory.iterdir() if p.name != ".ducksets.lock")


def duckdb_cli(db: Path, sql_text: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """The real duckdb binary (from the duckdb-cli package), CSV output."""
    return run(str(BIN / "duckdb"), "-no-init", "-csv", *flags, str(db), "-c", sql_text)


def python_written_file(path: Path) -> None:
    """A database file written by the Python duckdb package, readable by the CLI's DuckDB."""
    with duckdb.connect(str(path), config={"storage_compatibility_version": "v1.0.0"}) as con:
        con.execute(
            """
            CREATE SCHEMA core;
            CREATE TABLE core.goids AS SELECT range AS id, 'g' || range AS name FROM range(10);
            CREATE SCHEMA docs;
            CREATE VIEW docs.v_goids AS SELECT id, name FROM core.goids WHERE id % 2 = 0;
            CREATE SCHEMA "odd schema";
            CREATE TABLE "odd schema"."it's; here" AS SELECT 1 AS x;
            """
        )


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help_with_an_example(capsys: pytest.CaptureFixture[str], verb: str) -> None:
    code, out, _ = cli(capsys, verb, "--help")
    assert code == 0
    assert "example: ducksets " in out


@pytest.mark.parametrize("verb", DB_VERBS)
def test_every_database_verb_says_how_it_opens_the_database(
    capsys: pytest.CaptureFixture[str], verb: str
) -> None:
    assert "Opens DB" in cli(capsys, verb, "--help")[1]


@pytest.mark.parametrize(
    "args", [(), ("frobnicate",), ("install",), ("lint", "--format", "xml"), ("demo", "a", "b")]
)
def test_bad_usage_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, _, err = cli(capsys, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "ducksets" in err and "--help" in err


@pytest.mark.parametrize("verb", ["check", "datasets", "show", "drift", "rows", "export"])
def test_missing_database_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, verb: str
) -> None:
    path = tmp_path / "nope.db"
    code, _, err = cli(capsys, *_verb_args(verb, path, tmp_path))
    assert code == 1
    assert err == (
        f"ducksets {verb}: no database file {path}; "
        "check the path (ducksets demo makes one to try)\n"
    )
    assert not path.exists()


def test_sql_prints_the_pack_script(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "sql")
    assert (code, err) == (0, "")
    assert out == pack_script()


def test_install_then_install_again(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    python_written_file(db_path)
    code, out, _ = cli(capsys, "install", str(db_path))
    assert code == 0
    assert out.startswith(f"installed: pack none -> {pack_version()}")
    code, out, _ = cli(capsys, "install", str(db_path))
    assert out.startswith(f"unchanged: pack {pack_version()} -> {pack_version()}")
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("SELECT version FROM metadata.pack_info").fetchall() == [
            (pack_version(),)
        ]


def test_install_refuses_a_newer_pack_without_force(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    python_written_file(db_path)
    assert cli(capsys, "install", str(db_path))[0] == 0
    with duckdb.connect(str(db_path)) as con:
        con.execute("UPDATE metadata.pack_info SET version = '42.0.0'")
    code, _, err = cli(capsys, "install", str(db_path))
    assert code == 1 and "--force" in err
    code, out, _ = cli(capsys, "install", str(db_path), "--force")
    assert code == 0 and out.startswith("downgraded: pack 42.0.0")


def test_version_shows_the_installed_pack_and_opens_read_only(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    python_written_file(db_path)
    before = db_path.read_bytes()
    code, out, _ = cli(capsys, "version", str(db_path))
    assert code == 0
    assert out.splitlines()[1] == f"{db_path}: pack not installed"
    assert db_path.read_bytes() == before


def test_demo_builds_a_database_and_tours_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "demo.duckdb"
    code, out, err = cli(capsys, "demo", str(path))
    assert (code, err) == (0, "")
    assert out.startswith(f"Built {path}: demo data, pack {pack_version()}, 6 datasets registered.")
    assert "docs.v_function_summary" in out and "  in sync" in out
    assert exported_files(tmp_path / "demo-exports") == [
        "call_graph_edges.parquet",
        "datapackage.json",
        "function_summary.parquet",
        "goids.parquet",
    ]
    suggested = [line.strip() for line in out.splitlines() if line.startswith("  duckdb ")]
    assert len(suggested) == 5
    assert out.rstrip().endswith(f"--file-format jsonl --out {tmp_path / 'demo-exports'}")
    code, _, err = cli(capsys, "demo", str(path))
    assert code == 1 and "--replace" in err
    assert cli(capsys, "demo", str(path), "--replace")[0] == 0


def test_check_and_lint_emit_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lint = inproc(capsys, "lint", "--format", "json")
    assert lint.returncode == 0, lint.stdout
    assert json.loads(lint.stdout) == []
    path = tmp_path / "demo.duckdb"
    build_demo(path)
    clean = inproc(capsys, "check", str(path), "--format", "json")
    assert (clean.returncode, json.loads(clean.stdout)) == (0, [])
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO metadata.datasets VALUES ('core.gone', 'gone', FALSE, NULL, NULL)")
    broken = inproc(capsys, "check", str(path), "--format", "json")
    assert broken.returncode == 1
    [problem] = json.loads(broken.stdout)
    assert set(problem) == {"file", "line", "column", "rule", "severity", "message"}
    assert "core.gone" in problem["message"]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path)
    return path


def test_datasets_lists_as_json_when_piped_and_opens_read_only(
    capsys: pytest.CaptureFixture[str], demo_db: Path
) -> None:
    before = demo_db.read_bytes()
    result = inproc(capsys, "datasets", str(demo_db))
    assert result.returncode == 0
    listing = json.loads(result.stdout)
    assert [d["name"] for d in listing] == [
        "call_graph_edges",
        "function_metrics",
        "goids",
        "modules",
        "v_function_summary",
        "v_module_summary",
    ]
    assert listing[2] == {
        "name": "goids",
        "table_key": "core.goids",
        "kind": "table",
        "jsonl_filename": "goids.jsonl",
        "parquet_filename": "goids.parquet",
    }
    counted = json.loads(inproc(capsys, "ls", str(demo_db), "--counts").stdout)
    assert {d["name"]: d["rows"] for d in counted}["goids"] == 300
    csv_lines = inproc(capsys, "ls", str(demo_db), "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == "name,table_key,kind,jsonl_filename,parquet_filename"
    assert csv_lines[3] == "goids,core.goids,table,goids.jsonl,goids.parquet"
    table = inproc(capsys, "ls", str(demo_db), "--format", "table").stdout.splitlines()
    assert table[0].split() == ["name", "table_key", "kind", "jsonl_filename", "parquet_filename"]
    assert demo_db.read_bytes() == before


def test_show_one_dataset(capsys: pytest.CaptureFixture[str], demo_db: Path) -> None:
    shown = json.loads(inproc(capsys, "show", str(demo_db), "goids").stdout)
    assert set(shown) == {
        "name",
        "table_key",
        "kind",
        "jsonl_filename",
        "parquet_filename",
        "declared_columns",
        "actual_columns",
        "drift",
    }
    assert shown["declared_columns"][0] == {
        "name": "goid_h128",
        "type": "DECIMAL(38,0)",
        "nullable": False,
        "primary_key": True,
    }
    assert [c["name"] for c in shown["actual_columns"]] == [
        c["name"] for c in shown["declared_columns"]
    ]
    assert shown["drift"] == []
    view = json.loads(inproc(capsys, "show", str(demo_db), "v_module_summary").stdout)
    assert view["declared_columns"] is None and view["kind"] == "view"
    text = inproc(capsys, "show", str(demo_db), "goids", "--format", "table").stdout
    assert "table_key:        core.goids" in text and "drift: none" in text


def test_unknown_dataset_is_one_line_with_a_suggestion(
    capsys: pytest.CaptureFixture[str], demo_db: Path
) -> None:
    result = inproc(capsys, "show", str(demo_db), "goid")
    assert result.returncode == 1
    assert result.stderr == "ducksets show: no dataset 'goid'; did you mean 'goids'?\n"


def test_drift_gates_ci(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    build_demo(path)
    in_sync = inproc(capsys, "drift", str(path))
    assert (in_sync.returncode, json.loads(in_sync.stdout)) == (0, [])
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE core.goids ADD COLUMN extra INTEGER")
    drifted = inproc(capsys, "drift", str(path))
    assert drifted.returncode == 1
    assert json.loads(drifted.stdout) == [
        {
            "table_key": "core.goids",
            "drift": "unexpected_column",
            "detail": "column extra (INTEGER) is in the table but not declared",
        }
    ]


def test_sync_dry_run_changes_nothing_then_sync_registers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "demo.duckdb"
    build_demo(path)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE core.added (x INTEGER)")
    before = path.read_bytes()
    dry = inproc(capsys, "sync", str(path), "--schema", "core", "--dry-run")
    assert json.loads(dry.stdout) == {
        "added": ["core.added"],
        "updated": [],
        "left": ["core.goids", "core.modules"],
        "dry_run": True,
        "skipped": [],
    }
    assert path.read_bytes() == before
    done = inproc(capsys, "sync", str(path), "--schema", "core")
    assert json.loads(done.stdout)["added"] == ["core.added"]
    assert json.loads(inproc(capsys, "drift", str(path)).stdout) == []
    missing = inproc(capsys, "sync", str(path))
    assert missing.returncode == 2


def test_export_writes_files_and_manifest(
    capsys: pytest.CaptureFixture[str], demo_db: Path, tmp_path: Path
) -> None:
    before = demo_db.read_bytes()
    out = tmp_path / "exports"
    result = inproc(capsys, "export", str(demo_db), "--file-format", "parquet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [f["name"] for f in report["written"]] == [
        "call_graph_edges",
        "goids",
        "v_function_summary",
    ]
    assert report["failed"] == []
    assert exported_files(out) == [
        "call_graph_edges.parquet",
        "datapackage.json",
        "function_summary.parquet",
        "goids.parquet",
    ]
    assert demo_db.read_bytes() == before  # exports open the database read-only


def test_export_of_an_unknown_dataset_writes_nothing(
    capsys: pytest.CaptureFixture[str], demo_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    result = inproc(capsys, "export", str(demo_db), "--out", str(out), "--dataset", "goid")
    assert result.returncode == 1
    assert result.stderr == "ducksets export: no dataset 'goid'; did you mean 'goids'?\n"
    assert not out.exists()


def test_export_failure_exits_1_and_keeps_going(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "demo.duckdb"
    build_demo(path)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE VIEW docs.v_broken AS SELECT error('boom') AS x FROM range(3)")
        con.execute(
            "INSERT INTO metadata.datasets "
            "VALUES ('docs.v_broken', 'broken', TRUE, 'b.jsonl', NULL)"
        )
    out = tmp_path / "exports"
    result = inproc(capsys, "export", str(path), "--file-format", "jsonl", "--out", str(out))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [f["name"] for f in report["failed"]] == ["broken"]
    assert "boom" in report["failed"][0]["reason"]
    assert len(report["written"]) == 4
    assert "ducksets export: broken (jsonl): " in result.stderr
    assert not (out / "b.jsonl").exists()


def test_export_shows_progress_on_a_terminal(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With stdout a real terminal (a pty), the default output is progress and a summary."""
    leader, follower = pty.openpty()
    out = tmp_path / "exports"
    with os.fdopen(follower, "w", encoding="utf-8") as terminal:
        monkeypatch.setattr(sys, "stdout", terminal)
        code = main(["export", str(demo_db), "--file-format", "jsonl", "--out", str(out)])
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the terminal's other end is closed and everything was read
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    lines = shown.decode().splitlines()
    assert code == 0
    assert any(line.split()[:2] == ["goids", "jsonl"] and "300 rows" in line for line in lines)
    assert lines[-1] == f"4 file(s) written to {out}, 0 failed"


def test_rows_reads_a_page_in_every_format(
    capsys: pytest.CaptureFixture[str], demo_db: Path
) -> None:
    page = json.loads(
        inproc(capsys, "rows", str(demo_db), "goids", "--limit", "2", "--offset", "10").stdout
    )
    assert [r["urn"] for r in page] == ["goid:demo/10", "goid:demo/11"]
    assert page[0]["goid_h128"] == 1000010 and page[0]["created_at"] == "2026-01-01T00:10:00"
    csv_lines = inproc(
        capsys, "rows", str(demo_db), "modules", "--limit", "1", "--format", "csv"
    ).stdout
    assert csv_lines.splitlines() == [
        "module,path,language",
        "demo.pkg0.mod0,src/demo/pkg0/mod0.py,python",
    ]
    clamped = inproc(capsys, "rows", str(demo_db), "goids", "--limit", "5", "--max-rows", "2")
    assert len(json.loads(clamped.stdout)) == 2
    assert clamped.stderr == "ducksets rows: limit 5 is above the maximum 2; using 2\n"
    past_end = inproc(capsys, "rows", str(demo_db), "goids", "--offset", "1000")
    assert (past_end.returncode, json.loads(past_end.stdout), past_end.stderr) == (0, [], "")


def _sqlite_file(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()


def _parquet_file(path: Path) -> None:
    duckdb.sql(f"COPY (SELECT 1 AS x) TO '{path}' (FORMAT PARQUET)")


def _text_file(path: Path) -> None:
    path.write_text("hello\n")


def _verb_args(verb: str, db: Path, tmp_path: Path) -> list[str]:
    extra = {"show": ["goids"], "rows": ["goids"], "export": ["--out", str(tmp_path / "out")]}
    return [verb, str(db), *extra.get(verb, [])]


OPENING_VERBS = ("version", "check", "datasets", "ls", "show", "drift", "rows", "export")


@pytest.mark.parametrize(
    "make", [_sqlite_file, _parquet_file, _text_file], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("verb", OPENING_VERBS)
def test_a_file_that_is_not_a_database_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, verb: str, make: object
) -> None:
    path = tmp_path / "o.parquet"
    make(path)  # type: ignore[operator]
    before = path.read_bytes()
    code, _, err = cli(capsys, *_verb_args(verb, path, tmp_path))
    assert (code, err) == (1, f"ducksets {verb}: {path} is not a DuckDB database file\n")
    assert path.read_bytes() == before
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("verb", OPENING_VERBS)
def test_a_directory_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, verb: str
) -> None:
    code, _, err = cli(capsys, *_verb_args(verb, tmp_path, tmp_path))
    assert (code, err) == (1, f"ducksets {verb}: {tmp_path} is a directory; give a database file\n")


def test_counts_mark_what_cannot_be_counted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "demo.duckdb"
    build_demo(path)
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE core.modules")  # v_module_summary reads it
    code, out, err = cli(capsys, "ls", str(path), "--counts", "--format", "json")
    assert code == 0
    counted = {d["name"]: d["rows"] for d in json.loads(out)}
    assert counted == {
        "call_graph_edges": 600,
        "function_metrics": 257,
        "goids": 300,
        "modules": None,
        "v_function_summary": 257,
        "v_module_summary": None,
    }
    assert err.splitlines()[0] == (
        "ducksets ls: cannot count modules (core.modules): no table or view core.modules"
    )
    assert err.splitlines()[1].startswith(
        "ducksets ls: cannot count v_module_summary (docs.v_module_summary): view"
    )
    _, csv_out, _ = cli(capsys, "datasets", str(path), "--counts", "--format", "csv")
    assert "modules,core.modules,table,,modules.jsonl," in csv_out.splitlines()
    _, table, _ = cli(capsys, "datasets", str(path), "--counts", "--format", "table")
    [modules] = [line for line in table.splitlines() if line.startswith("modules ")]
    assert modules.split()[:4] == ["modules", "core.modules", "table", "missing"]
    [view] = [line for line in table.splitlines() if line.startswith("v_module_summary ")]
    assert view.split()[3] == "unreadable"


def test_messages_name_the_real_database_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "my demo.db"
    build_demo(path)
    code, _, err = cli(capsys, "rows", str(path), "nope")
    assert code == 1
    assert err == (
        f"ducksets rows: no dataset 'nope'; list them with: ducksets datasets "
        f"{shlex.quote(str(path))} (or FROM metadata.datasets)\n"
    )


def test_version_flag_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--version")
    assert (code, err) == (0, "")
    assert out.startswith(f"ducksets {pack_version()}")


@pytest.mark.parametrize("name", ["datasets", "ls"])
def test_help_names_the_verb_as_typed(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, _ = cli(capsys, name, "--help")
    assert code == 0 and out.startswith(f"usage: ducksets {name} ")
    code, _, err = cli(capsys, name)
    assert code == 2 and err.startswith(f"ducksets {name}: ")


def test_hostile_catalog_text_is_escaped_on_a_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "demo.duckdb"
    build_demo(path)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "UPDATE metadata.datasets SET jsonl_filename = 'x' || chr(27) || '[2J' || chr(10) "
            "|| 'fake  row' WHERE name = 'goids'"
        )
    _, table, _ = cli(capsys, "ls", str(path), "--format", "table")
    assert "\x1b" not in table and len(table.splitlines()) == 8
    assert "x\\x1b[2J\\nfake  row" in table
    _, shown, _ = cli(capsys, "show", str(path), "goids", "--format", "table")
    assert "\x1b" not in shown and "jsonl_filename:   x\\x1b[2J\\nfake  row" in shown


def test_rows_in_standard_json_and_csv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "odd.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE SCHEMA s; CREATE TABLE s.t AS SELECT 'nan'::DOUBLE AS f, "
            "INTERVAL '1 hour 30 minutes' AS i, 'infinity'::TIMESTAMP AS ts, "
            "{'a': 1, 'b': [2]} AS st"
        )
        install_macros(con)
        con.execute("INSERT INTO metadata.datasets VALUES ('s.t', 't', FALSE, NULL, NULL)")
    code, out, err = cli(capsys, "rows", str(path), "t", "--format", "json")
    assert (code, err) == (0, "")
    assert "NaN" not in out
    assert json.loads(out) == [
        {"f": None, "i": "PT1H30M", "ts": "infinity", "st": {"a": 1, "b": [2]}}
    ]
    _, csv_out, _ = cli(capsys, "rows", str(path), "t", "--format", "csv")
    assert csv_out.splitlines() == ["f,i,ts,st", 'nan,PT1H30M,infinity,"{""a"":1,""b"":[2]}"']


def test_show_never_reads_a_file_for_a_missing_relation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "db.duckdb"
    with duckdb.connect(str(path)) as con:
        install_macros(con)
        con.execute("INSERT INTO metadata.datasets VALUES ('data.csv', 'data', FALSE, NULL, NULL)")
    (tmp_path / "data.csv").write_text("secret\n1\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(capsys, "show", str(path), "data", "--format", "json")
    assert code == 0
    assert json.loads(out)["actual_columns"] == []
    code, out, _ = cli(capsys, "ls", str(path), "--counts", "--format", "json")
    assert json.loads(out)[0]["rows"] is None


def test_lint_text_report_escapes_control_characters(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hostile = tmp_path / "x\x1b[2J.sql"
    hostile.write_text("CREATE MACRO metadata.f(a) AS (a;\n")
    code, out, _ = cli(capsys, "lint", str(hostile))
    assert code == 1
    assert "\x1b" not in out and "x\\x1b[2J.sql" in out


def test_demo_replace_refuses_a_file_that_is_not_a_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "data.parquet"
    _parquet_file(path)
    before = path.read_bytes()
    code, out, err = cli(capsys, "demo", str(path), "--replace")
    assert (code, out, err) == (1, "", f"ducksets demo: {path} is not a DuckDB database file\n")
    assert path.read_bytes() == before


def test_show_lists_a_dataset_whose_key_is_invalid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "db.duckdb"
    with duckdb.connect(str(path)) as con:
        install_macros(con)
        con.execute("INSERT INTO metadata.datasets VALUES ('a.b.c.d', 'bad', FALSE, NULL, NULL)")
    code, out, _ = cli(capsys, "show", str(path), "bad", "--format", "json")
    assert code == 0
    shown = json.loads(out)
    assert (shown["table_key"], shown["actual_columns"]) == ("a.b.c.d", [])
    assert [d["drift"] for d in shown["drift"]] == ["invalid_key"]


def test_show_matches_columns_as_duckdb_folds_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "db.duckdb"
    declared = TableSchema((Column("Ä", "INTEGER"), Column("ä", "VARCHAR")))
    with duckdb.connect(str(path)) as con:
        install_macros(con)
        con.execute('CREATE TABLE main.t ("Ä" INTEGER, "ä" VARCHAR)')
        register_dataset(con, "main.t", schema=declared)
    code, out, _ = cli(capsys, "show", str(path), "t", "--format", "csv")
    assert code == 0
    assert out.splitlines() == [
        "column,declared_type,actual_type,description",
        "Ä,INTEGER,INTEGER,",
        "ä,VARCHAR,VARCHAR,",
    ]


def test_export_to_an_empty_out_is_refused_like_in_python(
    capsys: pytest.CaptureFixture[str],
    demo_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "export", str(demo_db), "--out", "")
    assert (code, out) == (1, "")
    assert err.startswith("ducksets export: output_dir ''"), err
    assert list(tmp_path.iterdir()) == []


# Names: --pack-schema on every verb (--schema its deprecated spelling, except on
# sync), export --file-format for the files and --format for the output.


@pytest.fixture(scope="module")
def meta_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the pack in schema ``meta`` (none in ``metadata``) and one dataset."""
    path = tmp_path_factory.mktemp("meta") / "packed.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE SCHEMA core; CREATE TABLE core.goids AS SELECT range AS id FROM range(3)"
        )
        install_macros(con, pack_schema="meta")
        register_dataset(con, "core.goids", jsonl_filename="goids.jsonl", pack_schema="meta")
    return path


PACK_SCHEMA_VERBS = ("install", "sql", "check", "datasets", "show", "drift", "rows", "export")


@pytest.mark.parametrize("spelling", ["--pack-schema", "--schema"])
@pytest.mark.parametrize("verb", PACK_SCHEMA_VERBS)
def test_every_verb_takes_the_pack_schema(
    capsys: pytest.CaptureFixture[str], meta_db: Path, tmp_path: Path, verb: str, spelling: str
) -> None:
    args = [verb] if verb == "sql" else _verb_args(verb, meta_db, tmp_path)
    code, out, err = cli(capsys, *args, spelling, "meta")
    # Without the option every verb but sql would look in (or install into) metadata.
    assert code == 0, err
    warning = f"ducksets {verb}: warning: --schema is deprecated; use --pack-schema\n"
    assert err == (warning if spelling == "--schema" else "")
    if verb == "sql":
        assert out == pack_script(pack_schema="meta")
    if verb == "install":
        assert out.startswith("unchanged:") and out.rstrip().endswith("(meta)")
    if verb == "show":
        assert json.loads(out)["table_key"] == "core.goids"
    with duckdb.connect(str(meta_db), read_only=True) as con:
        schemas = con.execute("SELECT schema_name FROM duckdb_schemas() WHERE NOT internal")
        assert "metadata" not in {row[0] for row in schemas.fetchall()}


@pytest.mark.parametrize("verb", PACK_SCHEMA_VERBS)
def test_help_offers_pack_schema_only(capsys: pytest.CaptureFixture[str], verb: str) -> None:
    code, out, _ = cli(capsys, verb, "--help")
    assert code == 0 and "--pack-schema PACK_SCHEMA" in out
    assert "--schema" not in out  # the old spelling still works, but is not offered


def test_sync_schema_names_what_to_register_and_pack_schema_the_pack(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "packed.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA core; CREATE TABLE core.a (x INTEGER)")
        install_macros(con, pack_schema="meta")
    code, out, err = cli(
        capsys, "sync", str(path), "--schema", "core", "--pack-schema", "meta", "--format", "json"
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["added"] == ["core.a"]


def test_export_file_format_picks_files_and_format_the_output(
    capsys: pytest.CaptureFixture[str], demo_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "table"
    args = ["export", str(demo_db), "--file-format", "parquet", "--out", str(out)]
    code, shown, err = cli(capsys, *args, "--format", "table")
    assert (code, err) == (0, "")
    lines = shown.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [
        ["call_graph_edges", "parquet"],
        ["goids", "parquet"],
        ["v_function_summary", "parquet"],
    ]
    assert lines[-1] == f"3 file(s) written to {out}, 0 failed"
    out = tmp_path / "csv"
    args = ["export", str(demo_db), "--file-format", "jsonl", "--out", str(out)]
    code, shown, err = cli(capsys, *args, "--dataset", "goids", "--format", "csv")
    assert (code, err) == (0, "")
    [row] = list(csv.DictReader(io.StringIO(shown)))
    assert (row["name"], row["format"], row["status"], row["rows"]) == (
        "goids",
        "jsonl",
        "written",
        "300",
    )
    assert (row["file"], row["reason"]) == (str(out / "goids.jsonl"), "")
    assert exported_files(out) == ["datapackage.json", "goids.jsonl"]


@pytest.mark.parametrize("file_format", ["jsonl", "parquet", "both"])
def test_export_format_as_a_file_format_still_works_with_one_warning(
    capsys: pytest.CaptureFixture[str], demo_db: Path, tmp_path: Path, file_format: str
) -> None:
    out = tmp_path / "old"
    code, shown, err = cli(
        capsys, "export", str(demo_db), "--format", file_format, "--out", str(out)
    )
    assert code == 0
    assert err == (
        f"ducksets export: warning: --format {file_format} is deprecated; "
        f"use --file-format {file_format}\n"
    )
    written = {(f["name"], f["format"]) for f in json.loads(shown)["written"]}
    assert {f for _, f in written} == (
        {"jsonl", "parquet"} if file_format == "both" else {file_format}
    )


def test_export_help_and_bad_formats(capsys: pytest.CaptureFixture[str], demo_db: Path) -> None:
    _, out, _ = cli(capsys, "export", "--help")
    assert "--file-format {jsonl,parquet,both}" in out and "--format {table,json,csv}" in out
    code, _, err = cli(capsys, "export", str(demo_db), "--out", "x", "--format", "xml")
    assert code == 2 and "invalid choice: 'xml'" in err
    code, _, err = cli(capsys, "export", str(demo_db), "--out", "x", "--file-format", "csv")
    assert code == 2 and "invalid choice: 'csv'" in err


# Smoke tests: the three ways in that only a process of its own shows.


def test_smoke_the_installed_script_stops_quietly_when_the_pipe_closes(tmp_path: Path) -> None:
    """The ``ducksets`` entry point; ``| head`` ends it with status 141 and no traceback."""
    path = tmp_path / "demo.duckdb"
    build_demo(path)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "INSERT INTO core.modules SELECT 'm' || i, 'p' || i, 'x' FROM range(20000) t(i)"
        )
    reader = subprocess.Popen(
        [
            str(BIN / "ducksets"),
            "rows",
            str(path),
            "modules",
            "--limit",
            "20000",
            "--max-rows",
            "20000",
            "--format",
            "csv",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.readline() == b"module,path,language\n"
    reader.stdout.close()  # what head does after its lines
    err = reader.stderr.read()
    assert reader.wait() == 141  # 128 + SIGPIPE, what a shell reports for cat
    assert err == b""


def test_smoke_python_dash_m_runs_even_with_stdout_closed() -> None:
    """``python -m ducksets``; with ``>&-`` Python starts with sys.stdout None: no traceback."""
    result = run(sys.executable, "-m", "ducksets", "version")
    assert result.returncode == 0
    assert result.stdout.startswith(f"ducksets {pack_version()}")
    done = subprocess.run(
        [sys.executable, "-m", "ducksets", "version"],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.close(1),  # the child's own stdout, before exec
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_smoke_the_duckdb_binary_needs_no_python(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The real duckdb binary (another DuckDB build) runs what ducksets hands it."""
    db = tmp_path / "sql.db"
    python_written_file(db)
    script = cli(capsys, "sql")[1]  # what `ducksets sql | duckdb my.db` pipes
    _pipe_the_pack_and_call_every_macro(db, script, tmp_path / "out dir")
    _a_newer_pack_refuses_the_piped_script(capsys, db, script)
    _the_demo_lines_run(capsys, tmp_path / "demo")


def _pipe_the_pack_and_call_every_macro(db: Path, script: str, out_dir: Path) -> None:
    piped = run(str(BIN / "duckdb"), "-no-init", str(db), stdin=script)
    assert piped.returncode == 0, piped.stderr
    register = duckdb_cli(
        db,
        "INSERT INTO metadata.datasets VALUES "
        "('core.goids', 'goids', FALSE, 'goids.jsonl', NULL), "
        "('docs.v_goids', 'v_goids', TRUE, NULL, NULL), "
        """('"odd schema"."it''s; here"', 'odd', FALSE, NULL, 'odd''s.parquet')""",
    )
    assert register.returncode == 0, register.stderr
    rows = duckdb_cli(
        db, "FROM metadata.dataset_rows('docs.v_goids', row_limit := 2, row_offset := 1)"
    )
    assert rows.stdout.splitlines() == ["id,name", "2,g2", "4,g4"]
    exists = duckdb_cli(db, "SELECT metadata.dataset_exists('goids'), metadata.dataset_exists('x')")
    assert exists.stdout.splitlines()[1] == "true,false"
    drift = duckdb_cli(db, "SELECT count(*) FROM metadata.catalog_drift()")
    assert drift.stdout.splitlines()[1] == "0"
    # The export statement, built by the macro, runs in the CLI and writes only that dataset.
    out_dir.mkdir()
    statement = duckdb_cli(
        db,
        f"SELECT metadata.dataset_export_sql('odd', output_dir := '{out_dir}')",
        "-noheader",
        "-list",
    ).stdout.strip()
    assert statement == (
        """COPY (SELECT * FROM "odd schema"."it's; here") """
        f"""TO '{out_dir}/odd''s.parquet' (FORMAT PARQUET)"""
    )
    exported = duckdb_cli(db, statement, "-readonly")
    assert exported.returncode == 0, exported.stderr
    assert [p.name for p in out_dir.iterdir()] == ["odd's.parquet"]
    assert duckdb.sql(f"SELECT x FROM read_parquet('{out_dir}/odd''s.parquet')").fetchall() == [
        (1,)
    ]


def _a_newer_pack_refuses_the_piped_script(
    capsys: pytest.CaptureFixture[str], db: Path, script: str
) -> None:
    """The piped script is one transaction: a newer pack stops it with nothing changed."""
    bump = duckdb_cli(db, "UPDATE metadata.pack_info SET version = '42.0.0'")
    assert bump.returncode == 0
    piped = run(str(BIN / "duckdb"), "-no-init", str(db), stdin=script)
    assert piped.returncode != 0
    assert "42.0.0 is installed, newer than this pack" in piped.stderr
    shown = duckdb_cli(db, "SELECT version FROM metadata.pack_info")
    assert shown.stdout.splitlines()[1] == "42.0.0"
    code, out, _ = cli(capsys, "install", str(db), "--force")
    assert code == 0 and out.startswith("downgraded: pack 42.0.0")


def _the_demo_lines_run(capsys: pytest.CaptureFixture[str], directory: Path) -> None:
    """The demo database, written by Python, opens in the binary; each suggested line runs."""
    directory.mkdir()
    code, out, err = cli(capsys, "demo", str(directory / "demo.duckdb"))
    assert code == 0, err
    suggested = [line.strip() for line in out.splitlines() if line.startswith("  duckdb ")]
    assert len(suggested) == 5
    for line in suggested:
        argv = shlex.split(line)
        completed = run(str(BIN / "duckdb"), "-no-init", "-readonly", *argv[1:], cwd=directory)
        assert completed.returncode == 0, (line, completed.stderr)
        assert completed.stdout.strip()
