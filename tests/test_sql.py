"""Runs every ``tests/sql/*.test`` file against a fresh in-memory DuckDB, and checks the runner."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ducksets import install_macros, pack_files
from ducksets._names import bare_refused_keywords
from sqllogictest import LogicFile, Outcome, SqlLogicTestError, parse, run

SQL_DIR = Path(__file__).with_name("sql")
TEST_FILES = sorted(SQL_DIR.glob("*.test"))
HOOKS = {"load-pack": install_macros}


def _run_text(tmp_path: Path, text: str) -> Outcome:
    path = tmp_path / "case.test"
    path.write_text(text, encoding="utf-8")
    with duckdb.connect() as con:
        return run(parse(path), con, test_dir=tmp_path, hooks=HOOKS)


@pytest.mark.parametrize("path", TEST_FILES, ids=[p.name for p in TEST_FILES])
def test_sql_file(path: Path, tmp_path: Path) -> None:
    test_file = parse(path)
    assert test_file.header.get("name") == f"tests/sql/{path.name}", f"{path}: fix '# name:'"
    assert {"description", "group"} <= test_file.header.keys(), f"{path}: header incomplete"
    failure: str | None = None
    with duckdb.connect() as con:
        try:
            outcome = run(test_file, con, test_dir=tmp_path, hooks=HOOKS)
        except SqlLogicTestError as exc:
            failure = str(exc)
    if failure is not None:
        pytest.fail(failure, pytrace=False)
    if outcome.skip_reason is not None:
        pytest.skip(outcome.skip_reason)


def test_sql_files_exist() -> None:
    assert len(TEST_FILES) >= 8


def test_every_pack_object_has_its_sql_test() -> None:
    # Each MANIFEST file's object, as its header names it ("schema" for the schema).
    objects = {f.object_name or f.kind for f in pack_files()}
    missing = sorted(name for name in objects if not (SQL_DIR / f"{name}.test").exists())
    assert missing == [], f"pack objects without tests/sql/<object>.test: {missing}"


def test_the_pack_refuses_the_keywords_python_refuses() -> None:
    # Two homes by necessity (Python must work without the pack): they must agree.
    with duckdb.connect() as con:
        install_macros(con)
        rows = con.execute("SELECT keyword_name FROM metadata.refused_keywords()").fetchall()
    assert {str(row[0]) for row in rows} == bare_refused_keywords()


def test_wrong_result_names_file_line_expected_and_actual(tmp_path: Path) -> None:
    text = "# name: x\n\nstatement ok\nSELECT 1\n\nquery IT\nSELECT 1, NULL\n----\n1\tnope\n"
    with pytest.raises(SqlLogicTestError) as info:
        _run_text(tmp_path, text)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'case.test'}:6: wrong result")
    assert "--- expected:\n1\tnope\n--- actual:\n1\tNULL" in message


def test_values_render_as_duckdb_prints_them(tmp_path: Path) -> None:
    text = "query ITTTT\nSELECT 1, 'a b', '', NULL, TRUE\n----\n1\ta b\t(empty)\tNULL\ttrue\n"
    assert _run_text(tmp_path, text) == Outcome(1, None)


def test_statement_error_that_succeeds_fails(tmp_path: Path) -> None:
    with pytest.raises(SqlLogicTestError, match=r"case.test:1: wrong outcome"):
        _run_text(tmp_path, "statement error\nSELECT 1\n")


def test_unmet_requirement_skips_the_rest_with_reason(tmp_path: Path) -> None:
    text = "statement ok\nSELECT 1\n\nrequire-duckdb >= 99.0\n\nstatement ok\nSELECT nonsense\n"
    outcome = _run_text(tmp_path, text)
    assert outcome.executed == 1
    assert outcome.skip_reason is not None
    assert "case.test:4: 1 records need duckdb >= 99.0" in outcome.skip_reason


def test_met_requirement_runs_everything(tmp_path: Path) -> None:
    text = "require-duckdb >= 1.0\n\nrequire-duckdb < 99\n\nstatement ok\nSELECT 1\n"
    assert _run_text(tmp_path, text) == Outcome(3, None)


def test_eval_runs_generated_statements(tmp_path: Path) -> None:
    text = (
        "eval ok\nSELECT 'CREATE TABLE t' || i || ' (a INT)' FROM range(2) AS r(i)\n\n"
        "query I\nSELECT count(*) FROM duckdb_tables()\n----\n2\n"
    )
    assert _run_text(tmp_path, text) == Outcome(2, None)


def test_unknown_record_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SqlLogicTestError, match="unknown record 'statement maybe'"):
        _run_text(tmp_path, "statement maybe\nSELECT 1\n")


def test_parse_reads_header_and_record_lines(tmp_path: Path) -> None:
    path = tmp_path / "h.test"
    path.write_text("# name: h\n# group: [g]\n\nload-pack\n\nstatement ok\nSELECT 1\n")
    parsed = parse(path)
    assert parsed == LogicFile(path, {"name": "h", "group": "[g]"}, parsed.records)
    assert [(r.line, r.header) for r in parsed.records] == [(4, "load-pack"), (6, "statement ok")]
