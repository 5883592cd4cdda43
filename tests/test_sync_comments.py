"""``sync_catalog`` keeps the relations' comments (the datasets' descriptions) as they are."""

from __future__ import annotations

from typing import Any

import duckdb

from ducksets import register_dataset
from ducksets.registry import load_dataset_registry
from ducksets.sync import sync_catalog

_COMMENTS = """
    SELECT 'relation', schema_name, table_name, NULL, comment FROM duckdb_tables()
    WHERE schema_name <> 'metadata'
    UNION ALL
    SELECT 'relation', schema_name, view_name, NULL, comment FROM duckdb_views()
    WHERE NOT internal AND schema_name <> 'metadata'
    UNION ALL
    SELECT 'column', schema_name, table_name, column_name, comment FROM duckdb_columns()
    WHERE NOT internal AND schema_name <> 'metadata'
    ORDER BY ALL
"""


def _comments(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(_COMMENTS).fetchall()


def _descriptions(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, dict[str, str]]]:
    registry = load_dataset_registry(con)
    return {n: (d.description, dict(d.column_descriptions)) for n, d in registry.by_name.items()}


def test_sync_adds_updates_and_leaves_datasets_without_touching_comments(
    con: duckdb.DuckDBPyConnection,
) -> None:
    for statement in (
        "CREATE SCHEMA core",
        "CREATE TABLE core.t (id INTEGER, note VARCHAR)",
        "CREATE TABLE core.u (id INTEGER)",
        "CREATE VIEW core.v AS SELECT id FROM core.t",
        "CREATE TABLE core.plain (id INTEGER)",
        "COMMENT ON TABLE core.t IS 'the t table'",
        "COMMENT ON COLUMN core.t.note IS 'free text'",
        "COMMENT ON VIEW core.v IS 'the v view'",
        "COMMENT ON COLUMN core.v.id IS 'v id'",
    ):
        con.execute(statement)
    register_dataset(con, "core.u", name="u", description="written by register_dataset")
    before = _comments(con)
    assert sync_catalog(con, ["core"], dry_run=True).added
    assert _comments(con) == before
    report = sync_catalog(con, ["core"])
    assert set(report.added) == {"core.t", "core.v", "core.plain"}
    assert _comments(con) == before
    assert _descriptions(con) == {
        "t": ("the t table", {"note": "free text"}),
        "u": ("written by register_dataset", {}),
        "v": ("the v view", {"id": "v id"}),
        "plain": (None, {}),
    }
    # A relation whose kind changed is updated in the catalog; its new
    # comment stays, and a second sync changes nothing.
    con.execute("DROP TABLE core.plain")
    con.execute("CREATE VIEW core.plain AS SELECT 1 AS id")
    con.execute("COMMENT ON VIEW core.plain IS 'now a view'")
    before = _comments(con)
    assert sync_catalog(con, ["core"]).updated == ("core.plain",)
    assert sync_catalog(con, ["core"]).updated == ()
    assert _comments(con) == before
    assert _descriptions(con)["plain"] == ("now a view", {})
