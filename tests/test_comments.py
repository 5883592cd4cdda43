"""Comments (``COMMENT ON``) read as descriptions: ``_comments.relation_comments``."""

from __future__ import annotations

import html
import json
from pathlib import Path

import duckdb
import pytest

from ducksets import install_macros
from ducksets._comments import NO_COMMENTS, Comments, described_relations, relation_comments
from ducksets._introspect import find_relations
from ducksets.catalog import register_dataset
from ducksets.cli import main
from ducksets.describe import describe_dataset
from ducksets.errors import ArgumentTypeError, InvalidArgumentError, RelationMissingError
from ducksets.keys import parse_table_key
from ducksets.registry import load_dataset_registry
from ducksets.sync import sync_catalog

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


def test_described_relations_agree_with_find_relations_and_relation_comments(
    fresh_con: duckdb.DuckDBPyConnection,
) -> None:
    _build(fresh_con)
    fresh_con.execute("INSERT INTO core.\"Goids\" VALUES (1, 'a', 2), (2, 'b', 3)")
    fresh_con.execute("ATTACH ':memory:' AS other")
    fresh_con.execute("CREATE TABLE other.main.t (a INTEGER)")
    texts = ("core.goids", 'memory.CORE."GOIDS"', "core.v", "core.bare", "other.main.t", "other.t")
    keys = [parse_table_key(k) for k in (*texts, "core.missing", 'core."goidß"')]
    described = described_relations(fresh_con, keys)
    relations, comments = find_relations(fresh_con, keys), relation_comments(fresh_con, keys)
    assert list(described) == list(relations) == list(comments)  # equal keys share one entry
    for key, found in described.items():
        if found is None:
            assert relations[key] is None
            continue
        assert found.relation == relations[key]
        assert found.comments == comments[key]
    goids = described[keys[0]]
    assert goids is not None
    assert goids.columns == (("id", "INTEGER"), ('odd "name"', "VARCHAR"), ("plain", "INTEGER"))
    assert goids.estimated_rows == 2
    view = described[keys[2]]
    assert view is not None
    assert view.columns == (("x", "INTEGER"), ("y", "INTEGER"))
    assert view.estimated_rows is None  # a view has no size to estimate
    assert described_relations(fresh_con, []) == {}


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


# What dbt-duckdb's persist_docs runs after building a model (its macros
# duckdb__alter_relation_comment and duckdb__alter_column_comment in
# dbt/include/duckdb/macros/persist_docs.sql), with {{ relation }} rendered as
# dbt renders it: database, schema and identifier, each double-quoted.
_DBT_DOLLAR = "$dbt_comment_literal_block$"
_DBT_MODEL_DESCRIPTION = 'One row per customer.\nBuilt from "raw" orders; it\'s $5 cheaper.'


def _persist_docs(
    relation_type: str, relation: str, description: str, columns: dict[str, str]
) -> list[str]:
    statements = [
        f"comment on {relation_type} {relation} is {_DBT_DOLLAR}{description}{_DBT_DOLLAR};"
    ]
    statements += [
        f"comment on column {relation}.{column} is {_DBT_DOLLAR}{text}{_DBT_DOLLAR};"
        for column, text in columns.items()
    ]
    return statements


def test_dbt_persist_docs_descriptions_show_with_no_extra_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database built by dbt-duckdb with ``persist_docs`` shows dbt's descriptions.

    dbt-duckdb (persist_docs.sql) emits, per model (one line each there)::

        comment on {{ relation.type }} {{ relation }} is
            $dbt_comment_literal_block$<description>$dbt_comment_literal_block$;
        comment on column {{ relation }}.{{ adapter.quote(column_name)
            if column_dict[column_name]['quote'] else column_name }} is
            $dbt_comment_literal_block$<description>$dbt_comment_literal_block$;

    and ``{{ relation }}`` renders as ``"<database>"."<schema>"."<identifier>"``.
    Those exact statements are run here; then ``sync`` registers the models and
    the descriptions appear on ``Dataset``, in ``ducksets show`` (text and
    JSON) and in the notebook reprs.
    """
    path = tmp_path / "jaffle.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute('CREATE TABLE main.customers (customer_id INTEGER, "First Name" VARCHAR)')
        con.execute("CREATE VIEW main.orders_v AS SELECT 1 AS order_id, 2 AS customer_id")
        statements = _persist_docs(
            "table",
            '"jaffle"."main"."customers"',
            _DBT_MODEL_DESCRIPTION,
            {"customer_id": "The primary key.", '"First Name"': "Given name (PII)."},
        )
        statements += _persist_docs(
            "view", '"jaffle"."main"."orders_v"', "Orders, as a view.", {"order_id": "Order id."}
        )
        for statement in statements:
            con.execute(statement)
        install_macros(con)
        sync_catalog(con, ["main"])
        registry = load_dataset_registry(con)
        customers = registry.dataset_for_name("customers")
        orders = registry.dataset_for_name("orders_v")
        described = describe_dataset(con, "customers")
    assert customers.description == _DBT_MODEL_DESCRIPTION
    assert dict(customers.column_descriptions) == {
        "customer_id": "The primary key.",
        "First Name": "Given name (PII).",
    }
    assert (orders.description, dict(orders.column_descriptions)) == (
        "Orders, as a view.",
        {"order_id": "Order id."},
    )
    assert described.description == _DBT_MODEL_DESCRIPTION
    assert [c.description for c in described.actual_columns] == [
        "The primary key.",
        "Given name (PII).",
    ]
    # Notebook reprs: the registry, the dataset and the description (escaped HTML).
    escaped = "<br>".join(html.escape(line) for line in _DBT_MODEL_DESCRIPTION.splitlines())
    assert escaped in registry._repr_html_()
    assert escaped in customers._repr_html_()
    assert "Given name (PII)." in customers._repr_html_()
    assert escaped in described._repr_html_()
    # ducksets show, as JSON and as text (control characters escaped, one line).
    assert main(["show", str(path), "customers", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["description"] == _DBT_MODEL_DESCRIPTION
    assert [c.get("description") for c in shown["actual_columns"]] == [
        "The primary key.",
        "Given name (PII).",
    ]
    assert main(["show", str(path), "orders_v", "--format", "table"]) == 0
    text = capsys.readouterr().out
    assert "description:      Orders, as a view." in text
    assert "Order id." in text
    assert main(["show", str(path), "customers", "--format", "table"]) == 0
    assert "description:      One row per customer.\\nBuilt from" in capsys.readouterr().out
