"""sync_catalog: register what exists, report what it cannot."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest

from ducksets import install_macros
from ducksets.catalog import (
    register_dataset,
)
from ducksets.errors import (
    DucksetsError,
)
from ducksets.sync import sync_catalog


def test_sync_registers_what_exists_and_reports(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE SCHEMA a; CREATE SCHEMA b; CREATE TABLE a.t (x INT); CREATE TABLE b.t (x INT);"
        "CREATE VIEW a.v AS SELECT 1 AS y"
    )
    register_dataset(con, "a.v", is_view=False)  # wrong kind on purpose
    dry = sync_catalog(con, ["a", "b"], dry_run=True)
    assert (dry.added, dry.updated, dry.left, dry.dry_run) == (("a.t", "b.t"), ("a.v",), (), True)
    assert con.execute("SELECT count(*) FROM metadata.datasets").fetchone() == (1,)
    report = sync_catalog(con, ["a", "b"])
    assert (report.added, report.updated) == (("a.t", "b.t"), ("a.v",))
    assert con.execute(
        "SELECT table_key, name, is_view FROM metadata.datasets ORDER BY 1"
    ).fetchall() == [("a.t", "t", False), ("a.v", "v", True), ("b.t", "b_t", False)]
    assert con.execute("FROM metadata.catalog_drift()").fetchall() == []
    again = sync_catalog(con, ["a", "b"])
    assert (again.added, again.updated, again.left) == ((), (), ("a.t", "a.v", "b.t"))
    with pytest.raises(DucksetsError, match="no schema 'zz'"):
        sync_catalog(con, ["zz"])


def test_sync_registers_keyword_names_and_reports_what_it_cannot(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(
        'CREATE SCHEMA app; CREATE TABLE app.install (x INT); CREATE TABLE app."values" (x INT);'
        'CREATE TABLE app."select" (x INT); CREATE TABLE app."a/b" (x INT);'
        "CREATE TABLE app.users (x INT)"
    )
    report = sync_catalog(con, ["app"])
    assert report.added == ("app.install", 'app."select"', "app.users", "app.values")
    [(skipped_key, reason)] = report.skipped
    assert skipped_key == 'app."a/b"'
    assert reason.startswith("dataset name 'a/b' cannot name a file")
    assert reason.endswith(
        """register it with a name: register_dataset(con, 'app."a/b"', name=...)"""
    )
    assert con.execute("SELECT count(*) FROM metadata.datasets").fetchone() == (4,)


def test_sync_skips_a_relation_whose_names_are_both_taken(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(
        "CREATE SCHEMA a; CREATE SCHEMA b; CREATE TABLE a.t (x INT); CREATE TABLE b.t (x INT)"
    )
    con.execute("CREATE TABLE a.other (x INT)")
    register_dataset(con, "a.other", name="b_t")
    register_dataset(con, "a.t")
    report = sync_catalog(con, ["b"])
    assert report.added == ()
    assert [key for key, _ in report.skipped] == ["b.t"]
    assert "'t' and 'b_t' are taken" in report.skipped[0][1]


def test_the_report_as_rows_and_as_json_data(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        'CREATE SCHEMA a; CREATE TABLE a.t (x INT); CREATE TABLE a."a/b" (x INT);'
        "CREATE VIEW a.v AS SELECT 1 AS y"
    )
    register_dataset(con, "a.v", is_view=False)
    register_dataset(con, "a.t")
    report = sync_catalog(con, ["a"])
    [(key, outcome, reason)] = [r for r in report.outcomes() if r[1] == "skipped"]
    assert (key, outcome) == ('a."a/b"', "skipped") and "cannot name a file" in reason
    assert report.outcomes()[:2] == [("a.v", "updated", ""), ("a.t", "left", "")]
    data = report.to_dict()
    assert (data["added"], data["updated"], data["left"], data["dry_run"]) == (
        (),
        ("a.v",),
        ("a.t",),
        False,
    )
    assert data["skipped"] == [{"relation": 'a."a/b"', "reason": reason}]


def test_concurrent_syncs_name_around_each_other(tmp_path: Path) -> None:
    """Two syncs that plan the same name for two relations both succeed.

    Each plans from the catalog it read; the one that writes second finds
    the name taken. Its plan is made again inside its write (after the
    catalog's write lock), so it takes the other name instead of failing.
    """
    path = str(tmp_path / "app.duckdb")
    first = duckdb.connect(path)
    install_macros(first)
    second = duckdb.connect(path)
    rounds = 8
    errors: list[str] = []
    for j in range(rounds):
        first.execute(f"CREATE SCHEMA a{j}; CREATE SCHEMA b{j}")
        first.execute(f"CREATE TABLE a{j}.t{j} (x INT); CREATE TABLE b{j}.t{j} (x INT)")
        barrier = threading.Barrier(2)

        def sync(con: duckdb.DuckDBPyConnection, schema: str, barrier: threading.Barrier) -> None:
            barrier.wait()
            try:
                sync_catalog(con, [schema])
            except Exception as exc:  # the assert below shows it
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [
            threading.Thread(target=sync, args=(con.cursor(), f"{s}{j}", barrier))
            for con, s in ((first, "a"), (second, "b"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    names = first.execute("SELECT table_key, name FROM metadata.datasets ORDER BY 1").fetchall()
    for j in range(rounds):
        got = {name for key, name in names if key in (f"a{j}.t{j}", f"b{j}.t{j}")}
        assert got in ({f"t{j}", f"a{j}_t{j}"}, {f"t{j}", f"b{j}_t{j}"})
    first.close()
    second.close()
