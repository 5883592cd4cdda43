"""TableSchema: declared columns in DuckDB's spelling, and its own CREATE TABLE."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from ducksets.errors import ArgumentTypeError, InvalidTableKeyError, SchemaError
from ducksets.schema import Column, TableSchema, duckdb_type_name, schemas_from_catalog


def test_types_take_duckdb_spelling() -> None:
    assert [Column("a", t).type for t in ("text", "int", "DECIMAL(38,0)", "json", "VARCHAR[]")] == [
        "VARCHAR",
        "INTEGER",
        "DECIMAL(38,0)",
        "JSON",
        "VARCHAR[]",
    ]


@pytest.mark.parametrize("bad", ["nope", "INT; DROP TABLE x", "", "INT)"])
def test_unknown_types_are_refused_with_a_hint(bad: str) -> None:
    with pytest.raises(SchemaError, match="unknown column type.*use a DuckDB type"):
        duckdb_type_name(bad)


def test_schema_checks_itself() -> None:
    with pytest.raises(SchemaError, match="declared twice: id"):
        TableSchema((Column("id", "INT"), Column("ID", "INT")))
    with pytest.raises(SchemaError, match="primary key names unknown columns"):
        TableSchema((Column("id", "INT"),), ("nope",))
    with pytest.raises(SchemaError, match="at least one column"):
        TableSchema(())


def test_create_table_sql_runs_and_matches_the_declaration(
    fresh_con: duckdb.DuckDBPyConnection,
) -> None:
    schema = TableSchema(
        (Column("id", "BIGINT", nullable=False), Column('Odd "Name"', "TEXT"), Column("j", "JSON")),
        ("id",),
    )
    fresh_con.execute('CREATE SCHEMA "my schema"')
    fresh_con.execute(schema.create_table_sql('"my schema".items'))
    fresh_con.execute(schema.create_table_sql('"my schema".items'))  # IF NOT EXISTS
    rows = fresh_con.execute(
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE schema_name = 'my schema' ORDER BY column_index"
    ).fetchall()
    assert rows == [("id", "BIGINT", False), ('Odd "Name"', "VARCHAR", True), ("j", "JSON", True)]
    with pytest.raises(duckdb.ConstraintException):
        fresh_con.execute("""INSERT INTO "my schema".items VALUES (1, 'a', NULL), (1, 'b', NULL)""")


def test_create_table_sql_refuses_a_bad_key() -> None:
    schema = TableSchema((Column("id", "INT"),))
    with pytest.raises(InvalidTableKeyError):
        schema.create_table_sql("core.t; DROP TABLE x")


def test_every_codeintel_table_builds(
    fresh_con: duckdb.DuckDBPyConnection, codeintel_catalog: dict[str, Any]
) -> None:
    schemas = schemas_from_catalog(codeintel_catalog["tables"])
    assert len(schemas) == 74
    assert sum(len(s.columns) for s in schemas.values()) == 1089
    for schema_name in {key.split(".")[0] for key in schemas}:
        fresh_con.execute(f"CREATE SCHEMA {schema_name}")
    for key, schema in schemas.items():
        fresh_con.execute(schema.create_table_sql(key))
    declared = {(k, c.name, c.type) for k, s in schemas.items() for c in s.columns}
    actual = set(
        fresh_con.execute(
            "SELECT schema_name || '.' || table_name, column_name, data_type "
            "FROM duckdb_columns() WHERE NOT internal"
        ).fetchall()
    )
    assert declared == actual


@pytest.mark.parametrize(
    "bad", ["INTEGER, b VARCHAR", "INTEGER b", "INTEGER NOT NULL", "VARCHAR); DROP TABLE x; --"]
)
def test_a_type_is_exactly_one_duckdb_type(bad: str) -> None:
    with pytest.raises(SchemaError, match="unknown column type"):
        Column("a", bad)


@pytest.mark.parametrize(
    ("kwargs", "error", "parameter"),
    [
        ({"name": None, "type": "INT"}, ArgumentTypeError, "name"),
        ({"name": 1, "type": "INT"}, ArgumentTypeError, "name"),
        ({"name": "a", "type": None}, ArgumentTypeError, "type"),
        ({"name": "a", "type": "INT", "nullable": "no"}, ArgumentTypeError, "nullable"),
    ],
)
def test_column_arguments_of_the_wrong_type(
    kwargs: dict[str, Any], error: type[Exception], parameter: str
) -> None:
    with pytest.raises(error) as caught:
        Column(**kwargs)
    assert getattr(caught.value, "parameter", None) == parameter


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_column_name_is_refused(name: str) -> None:
    with pytest.raises(SchemaError, match="column name"):
        Column(name, "INT")


def test_table_schema_arguments_of_the_wrong_type() -> None:
    with pytest.raises(ArgumentTypeError, match="columns"):
        TableSchema("id INT")  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match="primary_key"):
        TableSchema((Column("id", "INT"),), "id")  # type: ignore[arg-type]


def test_column_names_differing_beyond_ascii_case_are_two_columns() -> None:
    # DuckDB folds ASCII letters only: "Ä" and "ä" are two columns, "A" and "a" one.
    schema = TableSchema((Column("Ä", "INT"), Column("ä", "INT")), ("ä",))
    assert schema.column_names == ("Ä", "ä")
    with pytest.raises(SchemaError, match="declared twice"):
        TableSchema((Column("A", "INT"), Column("a", "INT")))


def _sqlglot_then_duckdb(type_text: str) -> str | None:
    """The rule of every type text: one type in a CAST for sqlglot, then DuckDB's name of it."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        cast = sqlglot.parse_one(f"CAST(NULL AS {type_text})", read="duckdb")
        if not isinstance(cast, exp.Cast) or not isinstance(cast.to, exp.DataType):
            return None
        return str(duckdb.type(type_text))
    except (ParseError, ValueError, duckdb.Error):
        return None


def test_plain_type_names_skip_sqlglot_and_keep_its_verdict(
    fresh_con: duckdb.DuckDBPyConnection,
) -> None:
    # Plain names and DuckDB's own spellings are checked by DuckDB alone (no
    # sqlglot import on the CLI path); the verdict must not change for any of
    # them, keywords ('as(3)' reads as ANY in duckdb.type) included.
    names = fresh_con.execute(
        "SELECT type_name FROM duckdb_types() UNION SELECT keyword_name FROM duckdb_keywords()"
    ).fetchall()
    suffixes = ("", "(3)", "(10,2)", "[]", "[2]", "[][]", "(3)[]", " NOT NULL", ", b INT")
    texts = {name + suffix for (name,) in names for suffix in suffixes}
    texts |= {"STRUCT(a INTEGER, b VARCHAR)", "MAP(VARCHAR, INTEGER)", "ENUM('a', 'b')"}
    texts |= {'STRUCT("select" INTEGER[])[]', "UNION(a INTEGER, b VARCHAR)", "nope(1)"}

    def verdict(text: str) -> str | None:
        try:
            return duckdb_type_name(text)
        except SchemaError:
            return None

    differ = {t: (verdict(t), _sqlglot_then_duckdb(t)) for t in sorted(texts)}
    assert {t: v for t, v in differ.items() if v[0] != v[1]} == {}
