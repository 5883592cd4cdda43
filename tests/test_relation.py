"""dataset_relation: a lazy DuckDB relation for any registered dataset."""

from __future__ import annotations

import duckdb
import pytest

from ducksets import register_dataset
from ducksets.errors import UnknownDatasetError
from ducksets.relation import dataset_relation


def test_relation_of_an_oddly_named_view(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE SCHEMA "we.ird"; CREATE VIEW "we.ird"."it's; a view" AS SELECT 1 AS x""")
    register_dataset(con, '"we.ird"."it\'s; a view"', name="odd")
    relation = dataset_relation(con, "odd")
    assert isinstance(relation, duckdb.DuckDBPyRelation)
    assert relation.columns == ["x"]
    assert relation.filter("x = 1").fetchall() == [(1,)]


def test_unknown_dataset(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA s; CREATE TABLE s.goids (x INT)")
    register_dataset(con, "s.goids")
    with pytest.raises(UnknownDatasetError, match="did you mean 'goids'"):
        dataset_relation(con, "goid")
