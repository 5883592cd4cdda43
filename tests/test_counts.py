"""Row counts per dataset: count what can be counted, mark the rest."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ducksets import install_macros, load_dataset_registry
from ducksets.counts import RowCount, count_dataset_rows, count_datasets
from ducksets.demo import build_demo
from ducksets.registry import Dataset


def _datasets(con: duckdb.DuckDBPyConnection) -> list[Dataset]:
    registry = load_dataset_registry(con)
    return sorted(registry.by_name.values(), key=lambda d: d.name)


def test_counts_every_dataset_and_marks_missing_and_failing_ones(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    build_demo(path)
    with duckdb.connect(str(path)) as con:
        # v_module_summary reads core.modules: dropping it leaves a view that fails.
        con.execute("DROP TABLE core.modules")
    with duckdb.connect(str(path), read_only=True) as con:
        counts = {c.name: c for c in count_datasets(con, _datasets(con))}
        assert {n: c.rows for n, c in counts.items()} == {
            "call_graph_edges": 600,
            "function_metrics": 257,
            "goids": 300,
            "modules": None,
            "v_function_summary": 257,
            "v_module_summary": None,
        }
        assert counts["modules"] == RowCount(
            "modules", "core.modules", None, "missing", "no table or view core.modules"
        )
        assert counts["v_module_summary"].status == "unreadable"
        assert "docs.v_module_summary fails" in counts["v_module_summary"].detail
        goids = next(d for d in _datasets(con) if d.name == "goids")
        assert count_dataset_rows(con, goids) == 300


def test_a_key_that_reads_as_a_file_is_missing_not_read(tmp_path: Path) -> None:
    """No replacement scan: a key like data.csv never reads the file of that name."""
    (tmp_path / "data.csv").write_text("x\n1\n2\n")
    with duckdb.connect(str(tmp_path / "db.duckdb")) as con:
        install_macros(con)
        con.execute("INSERT INTO metadata.datasets VALUES ('data.csv', 'data', FALSE, NULL, NULL)")
        con.execute(f"SET file_search_path = '{tmp_path}'")
        assert con.execute("SELECT count(*) FROM data.csv").fetchall() == [(2,)]
        [counted] = count_datasets(con, _datasets(con))
        assert (counted.rows, counted.status) == (None, "missing")


def test_failing_views_between_others_leave_every_other_count_right() -> None:
    """A failing view aborts the batch's transaction: the rest are counted in a new one."""
    with duckdb.connect() as con:
        install_macros(con)
        con.execute("CREATE SCHEMA s")
        con.execute("CREATE TABLE s.a AS SELECT * FROM range(3)")
        con.execute("CREATE TABLE s.gone AS SELECT 1 AS x")
        con.execute("CREATE VIEW s.v1 AS SELECT * FROM s.gone")
        con.execute("CREATE VIEW s.v2 AS SELECT * FROM s.gone")
        con.execute('CREATE TABLE s."B" AS SELECT * FROM range(5)')
        con.execute("DROP TABLE s.gone")
        rows = [
            ("s.a", "a", False),
            ("s.v1", "v1", True),
            ("s.missing", "m", False),
            ("S.b", "b", False),
            ("s.v2", "v2", True),
            ("memory.s.a", "a_again", False),
        ]
        for key, name, is_view in rows:
            con.execute(
                "INSERT INTO metadata.datasets VALUES (?, ?, ?, NULL, NULL)", [key, name, is_view]
            )
        registry = load_dataset_registry(con)
        datasets = [registry.by_name[name] for _, name, _ in rows]
        counted = count_datasets(con, datasets)
        assert [(c.name, c.rows, c.status) for c in counted] == [
            ("a", 3, "counted"),
            ("v1", None, "unreadable"),
            ("m", None, "missing"),
            ("b", 5, "counted"),
            ("v2", None, "unreadable"),
            ("a_again", 3, "counted"),
        ]
        assert con.execute("SELECT 1").fetchall() == [(1,)]  # no transaction left open
