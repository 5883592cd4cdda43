"""examples/quickstart.ipynb runs top to bottom, and is kept without outputs in git."""

from __future__ import annotations

from pathlib import Path

import duckdb
import nbformat
from nbclient import NotebookClient

from ducksets import Column, TableSchema, register_dataset
from ducksets.describe import describe_dataset
from ducksets.registry import load_dataset_registry

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


def test_notebook_is_stored_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code
    assert all(not c.outputs and c.execution_count is None for c in code)


def test_notebook_runs_top_to_bottom(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    # Registry, dataset, page, drift (twice) and export render as HTML tables.
    assert len(html) >= 6
    assert any("unexpected_column" in h for h in html)


def test_reprs_show_descriptions_escaped(con: duckdb.DuckDBPyConnection) -> None:
    con.execute('CREATE TABLE main.t (id INTEGER, "Note" VARCHAR)')
    con.execute("CREATE VIEW main.v AS SELECT 1 AS x")
    con.execute("COMMENT ON COLUMN main.t.\"Note\" IS 'free <i>text</i>'")
    con.execute("COMMENT ON COLUMN main.v.x IS 'the x'")
    declared = TableSchema((Column("id", "INTEGER", nullable=False), Column("note", "VARCHAR")))
    register_dataset(con, "main.t", name="t", schema=declared, description="<script>\nline 2")
    register_dataset(con, "main.v", name="v", description="a view")
    registry = load_dataset_registry(con)
    table = registry.dataset_for_name("t")._repr_html_()
    assert "<tr><td>description</td><td>&lt;script&gt;<br>line 2</td></tr>" in table
    assert "<td>column id</td><td>INTEGER NOT NULL</td>" in table
    assert "<td>column note</td><td>VARCHAR -- free &lt;i&gt;text&lt;/i&gt;</td>" in table
    view = registry.dataset_for_name("v")._repr_html_()
    assert "<td>description</td><td>a view</td>" in view
    assert "<td>column x</td><td>the x</td>" in view  # a view declares no schema
    listing = registry._repr_html_()
    assert "<th>description</th>" in listing
    assert "&lt;script&gt;<br>line 2" in listing and "<td>a view</td>" in listing
    described = describe_dataset(con, "t")._repr_html_()
    assert "<th>description</th>" in described
    assert "<td>note</td><td>VARCHAR</td><td>VARCHAR</td><td>free &lt;i&gt;text&lt;/i&gt;</td>" in (
        described
    )
