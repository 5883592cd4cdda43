"""describe_dataset: one dataset's catalog row, declared and actual columns, and drift."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ducksets import Column, TableSchema, install_macros, register_dataset
from ducksets.demo import build_demo
from ducksets.describe import (
    ColumnComparison,
    DatasetDescription,
    DescribedColumn,
    describe_dataset,
)
from ducksets.drift import DriftItem
from ducksets.errors import CatalogMissingError, UnknownDatasetError


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("describe") / "demo.duckdb"
    build_demo(path)
    return path


def test_a_declared_table_in_sync(demo_db: Path) -> None:
    with duckdb.connect(str(demo_db), read_only=True) as con:
        described = describe_dataset(con, "modules")
    assert described == DatasetDescription(
        name="modules",
        table_key="core.modules",
        kind="table",
        jsonl_filename="modules.jsonl",
        parquet_filename=None,
        declared_columns=(
            DescribedColumn("module", "VARCHAR", nullable=False, primary_key=True),
            DescribedColumn("path", "VARCHAR", nullable=False, primary_key=True),
            DescribedColumn("language", "VARCHAR", nullable=True, primary_key=False),
        ),
        actual_columns=(
            DescribedColumn("module", "VARCHAR", nullable=False),
            DescribedColumn("path", "VARCHAR", nullable=False),
            DescribedColumn("language", "VARCHAR", nullable=True),
        ),
        drift=(),
    )
    assert described.column_comparison == (
        ColumnComparison("module", "VARCHAR", "VARCHAR"),
        ColumnComparison("path", "VARCHAR", "VARCHAR"),
        ColumnComparison("language", "VARCHAR", "VARCHAR"),
    )


def test_to_dict_is_the_json_show_prints(demo_db: Path) -> None:
    with duckdb.connect(str(demo_db), read_only=True) as con:
        document = describe_dataset(con, "modules").to_dict()
        view = describe_dataset(con, "v_module_summary").to_dict()
    assert document == {
        "name": "modules",
        "table_key": "core.modules",
        "kind": "table",
        "jsonl_filename": "modules.jsonl",
        "parquet_filename": None,
        "declared_columns": [
            {"name": "module", "type": "VARCHAR", "nullable": False, "primary_key": True},
            {"name": "path", "type": "VARCHAR", "nullable": False, "primary_key": True},
            {"name": "language", "type": "VARCHAR", "nullable": True, "primary_key": False},
        ],
        "actual_columns": [
            {"name": "module", "type": "VARCHAR", "nullable": False},
            {"name": "path", "type": "VARCHAR", "nullable": False},
            {"name": "language", "type": "VARCHAR", "nullable": True},
        ],
        "drift": [],
    }
    assert view["declared_columns"] is None and view["kind"] == "view"
    assert [c["name"] for c in view["actual_columns"]] == ["module", "path", "symbols", "classes"]


def test_drift_is_only_this_datasets_and_columns_compare_both_ways(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "db.duckdb")) as con:
        install_macros(con)
        con.execute("CREATE TABLE main.t (a INTEGER, extra VARCHAR)")
        con.execute("CREATE TABLE main.u (x INTEGER)")
        declared = TableSchema((Column("a", "BIGINT"), Column("gone", "VARCHAR")))
        register_dataset(con, "main.t", schema=declared)
        register_dataset(con, "main.u", schema=TableSchema((Column("y", "INTEGER"),)))
        described = describe_dataset(con, "t")
    assert described.column_comparison == (
        ColumnComparison("a", "BIGINT", "INTEGER"),
        ColumnComparison("gone", "VARCHAR", None),
        ColumnComparison("extra", None, "VARCHAR"),
    )
    assert {i.table_key for i in described.drift} == {"main.t"}
    assert sorted(i.drift for i in described.drift) == [
        "missing_column",
        "type_mismatch",
        "unexpected_column",
    ]


def test_a_missing_relation_has_no_actual_columns_and_reads_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data.csv").write_text("secret\n1\n")
    monkeypatch.chdir(tmp_path)
    with duckdb.connect() as con:
        install_macros(con)
        con.execute("INSERT INTO metadata.datasets VALUES ('data.csv', 'data', FALSE, NULL, NULL)")
        described = describe_dataset(con, "data")
    assert described.actual_columns == ()
    assert [i.drift for i in described.drift] == ["missing_relation"]


def test_a_view_that_no_longer_binds_has_no_actual_columns() -> None:
    with duckdb.connect() as con:
        install_macros(con)
        con.execute("CREATE TABLE main.t (x INTEGER); CREATE VIEW main.v AS SELECT x FROM main.t")
        register_dataset(con, "main.v")
        con.execute("DROP TABLE main.t")
        described = describe_dataset(con, "v")
    assert described.actual_columns == ()
    assert described.column_comparison == ()


def test_errors_are_the_registrys(tmp_path: Path) -> None:
    with duckdb.connect() as con:
        with pytest.raises(CatalogMissingError):
            describe_dataset(con, "x")
        install_macros(con, pack_schema="meta")
        con.execute("CREATE TABLE main.goids (x INTEGER)")
        register_dataset(con, "main.goids", pack_schema="meta")
        with pytest.raises(UnknownDatasetError) as raised:
            describe_dataset(con, "goid", pack_schema="meta")
        assert raised.value.suggestions == ("goids",)
        assert describe_dataset(con, "goids", pack_schema="meta").table_key == "main.goids"


def test_notebook_html_escapes_and_shows_drift() -> None:
    described = DatasetDescription(
        name="<b>",
        table_key="main.t",
        kind="table",
        jsonl_filename=None,
        parquet_filename=None,
        declared_columns=None,
        actual_columns=(DescribedColumn("x", "INTEGER", nullable=True),),
        drift=(DriftItem("main.t", "unexpected_column", "column x & more"),),
    )
    html = described._repr_html_()
    assert "&lt;b&gt;" in html and "column x &amp; more" in html and "<i>NULL</i>" in html
    assert repr(described) == (
        "<DatasetDescription '<b>': table main.t, undeclared, 1 actual columns, 1 drift item(s)>"
    )


def test_descriptions_come_from_the_relations_comments(con: duckdb.DuckDBPyConnection) -> None:
    con.execute('CREATE TABLE main.t (id INTEGER, "Note" VARCHAR, extra INTEGER)')
    con.execute("COMMENT ON COLUMN main.t.\"Note\" IS 'free text'")
    con.execute("COMMENT ON COLUMN main.t.extra IS 'not declared'")
    declared = TableSchema((Column("id", "INTEGER"), Column("NOTE", "VARCHAR")))
    register_dataset(con, "main.t", name="t", schema=declared, description="The t table")
    described = describe_dataset(con, "t")
    assert described.description == "The t table"
    assert [(c.name, c.description) for c in described.actual_columns] == [
        ("id", None),
        ("Note", "free text"),
        ("extra", "not declared"),
    ]
    # Declared columns match the relation's as DuckDB folds names.
    assert described.column_comparison == (
        ColumnComparison("id", "INTEGER", "INTEGER", None),
        ColumnComparison("NOTE", "VARCHAR", "VARCHAR", "free text"),
        ColumnComparison("extra", None, "INTEGER", "not declared"),
    )
    document = described.to_dict()
    assert document["description"] == "The t table"
    assert document["actual_columns"][1] == {
        "name": "Note",
        "type": "VARCHAR",
        "nullable": True,
        "description": "free text",
    }
    assert "description" not in document["actual_columns"][0]
    assert all("description" not in c for c in document["declared_columns"])
    con.execute("COMMENT ON TABLE main.t IS NULL")
    assert "description" not in describe_dataset(con, "t").to_dict()
