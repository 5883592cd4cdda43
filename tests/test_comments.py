"""Comments (``COMMENT ON``) read as descriptions: ``_comments.relation_comments``."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ducksets._comments import NO_COMMENTS, Comments, relation_comments
from ducksets.catalog import register_dataset
from ducksets.errors import ArgumentTypeError, InvalidArgumentError, RelationMissingError
from ducksets.keys import parse_table_key
from ducksets.registry import load_dataset_registry

_SETUP = (
    "CREATE SCHEMA core",
    'CREATE TABLE core."Goids" (id INTEGER, "odd ""name""" VARCHAR, plain INTEGER)',
    "CREATE VIEW core.v AS SELECT 1 AS x, 2 AS y",
    "CREATE TABLE core.bare (a INTEGER)",
    "COMMENT ON TABLE core.\"Goids\" IS 'Global object ids, one per ''thing'''",
    "COMMENT ON COLUMN core.\"Goids\".id IS 'the id'",
    'COMMENT ON COLUMN core."Goids"."odd ""name""" IS \'quoted\'',
    "COMMENT ON COLUMN core.\"Goids\".plain IS ''",
    "COMMENT ON VIEW core.v IS ''",
    "COMMENT ON COLUMN core.v.y IS 'why'",
)


def _build(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _SETUP:
        con.execute(statement)


def test_table_view_and_column_comments_are_read_by_key(
    fresh_con: duckdb.DuckDBPyConnection,
) -> None:
    _build(fresh_con)
    keys = [parse_table_key(k) for k in ("core.goids", "core.v", "core.bare")]
    found = relation_comments(fresh_con, keys)
    goids = found[keys[0]]
    assert goids.table == "Global object ids, one per 'thing'"
    assert dict(goids.columns) == {"id": "the id", 'odd "name"': "quoted"}
    assert list(goids.columns) == ["id", 'odd "name"']  # column order
    # An empty comment is no comment.
    assert found[keys[1]] == Comments(None, {"y": "why"})
    assert found[keys[2]] is NO_COMMENTS
    assert not found[keys[2]]


def test_keys_resolve_as_duckdb_resolves_them(fresh_con: duckdb.DuckDBPyConnection) -> None:
    _build(fresh_con)
    fresh_con.execute("ATTACH ':memory:' AS other")
    fresh_con.execute("CREATE TABLE other.main.t (a INTEGER)")
    fresh_con.execute("COMMENT ON TABLE other.main.t IS 'elsewhere'")
    texts = ('memory.CORE."GOIDS"', "other.t", "other.main.t", "core.missing", 'core."goidß"')
    keys = [parse_table_key(k) for k in texts]
    found = relation_comments(fresh_con, keys)
    assert found[keys[0]].table == "Global object ids, one per 'thing'"
    # A two-part key names a schema of the current database, never another database's main.
    assert found[keys[1]] is NO_COMMENTS
    assert found[keys[2]].table == "elsewhere"
    assert found[keys[3]] is NO_COMMENTS
    assert found[keys[4]] is NO_COMMENTS
    assert relation_comments(fresh_con, []) == {}


def test_a_file_named_like_a_key_is_not_a_relation(
    fresh_con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data.csv").write_text("a\n1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    found = relation_comments(fresh_con, [parse_table_key('main."data.csv"')])
    assert list(found.values()) == [NO_COMMENTS]


def test_register_dataset_writes_the_description_as_the_relations_comment(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute('CREATE SCHEMA "we""ird"')
    con.execute('CREATE TABLE "we""ird"."O\'Brien" (a INTEGER)')
    con.execute("CREATE VIEW main.v AS SELECT 1 AS x")
    text = 'Owner\'s table; -- not SQL "quoted" \\ backslash'
    key = register_dataset(con, '"we""ird"."O\'Brien"', name="obrien", description=text)
    register_dataset(con, "main.v", name="v", description="a view")
    registry = load_dataset_registry(con)
    assert registry.dataset_for_name("obrien").description == text
    assert registry.dataset_for_name("v").description == "a view"
    comments = relation_comments(con, [parse_table_key(key), parse_table_key("main.v")])
    assert [c.table for c in comments.values()] == [text, "a view"]
    # None leaves the comment as it is; "" removes it.
    register_dataset(con, "main.v", name="v", jsonl_filename="v.jsonl")
    assert load_dataset_registry(con).dataset_for_name("v").description == "a view"
    register_dataset(con, "main.v", name="v", description="")
    assert load_dataset_registry(con).dataset_for_name("v").description is None


def test_a_refused_registration_writes_neither_row_nor_comment(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute("CREATE TABLE main.a (x INTEGER)")
    con.execute("CREATE TABLE main.b (x INTEGER)")
    register_dataset(con, "main.a", name="taken")
    with pytest.raises(InvalidArgumentError):
        register_dataset(con, "main.b", name="taken", description="b's")
    assert relation_comments(con, [parse_table_key("main.b")]).popitem()[1] is NO_COMMENTS
    assert "main.b" not in load_dataset_registry(con).by_table_key
    with pytest.raises(RelationMissingError, match="no table or view main.missing"):
        register_dataset(con, "main.missing", is_view=False, description="none")
    assert "main.missing" not in load_dataset_registry(con).by_table_key
    with pytest.raises(ArgumentTypeError, match="description must be a str or None"):
        register_dataset(con, "main.b", description=3)  # type: ignore[arg-type]
