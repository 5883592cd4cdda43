"""Which relation a key names: ``find_relations`` (many keys, one scan) and ``find_relation``."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ducksets._introspect import Relation, find_relation, find_relations
from ducksets.keys import TableKey, parse_table_key


@pytest.fixture
def tricky(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A database with quoted, mixed-case, Unicode, dropped and attached relations."""
    con = duckdb.connect()
    (tmp_path / "data.csv").write_text("a\n1\n")
    con.execute(f"ATTACH '{(tmp_path / 'other.duckdb').as_posix()}' AS other")
    con.execute("CREATE TABLE other.main.t AS SELECT 1 AS x")
    con.execute("CREATE SCHEMA other.s")
    con.execute("CREATE TABLE other.s.deep AS SELECT 1 AS x")
    con.execute('CREATE SCHEMA "Odd Schema"')
    con.execute('CREATE TABLE "Odd Schema"."Mixed Case" AS SELECT 1 AS x')
    con.execute('CREATE TABLE main."Ä" AS SELECT 1 AS x')
    con.execute("CREATE TABLE main.Shouty AS SELECT 1 AS x")
    con.execute('CREATE VIEW main."Viewed" AS SELECT 1 AS x')
    con.execute('CREATE TABLE main."we""ird.name" AS SELECT 1 AS x')
    con.execute("CREATE TABLE main.dropped (x INTEGER)")
    con.execute("DROP TABLE main.dropped")
    con.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS x")
    return con


EXPECTED: dict[str, tuple[str, str, str, str] | None] = {
    '"Odd Schema"."Mixed Case"': ("memory", "Odd Schema", "Mixed Case", "table"),
    '"ODD SCHEMA"."mixed case"': ("memory", "Odd Schema", "Mixed Case", "table"),
    "MAIN.SHOUTY": ("memory", "main", "Shouty", "table"),
    'MEMORY.main."shouty"': ("memory", "main", "Shouty", "table"),
    'main."Ä"': ("memory", "main", "Ä", "table"),
    'main."ä"': None,  # DuckDB folds ASCII letters only
    "main.viewed": ("memory", "main", "Viewed", "view"),
    'main."WE""IRD.NAME"': ("memory", "main", 'we"ird.name', "table"),
    "main.dropped": None,
    "other.t": None,  # a two-part key names a schema of the current database
    "other.main.t": ("other", "main", "t", "table"),
    "OTHER.S.DEEP": ("other", "s", "deep", "table"),
    "s.deep": None,
    'main."data.csv"': None,  # never a file (replacement scan)
    "temp.main.scratch": ("temp", "main", "scratch", "table"),
    "nowhere.main.t": None,
}


def test_find_relations_answers_every_key_as_find_relation_does(
    tricky: duckdb.DuckDBPyConnection,
) -> None:
    keys = [parse_table_key(text) for text in EXPECTED]
    bulk = find_relations(tricky, keys)
    for text, key in zip(EXPECTED, keys, strict=True):
        one = find_relation(tricky, key)
        assert bulk[key] == one, text
        want = EXPECTED[text]
        assert one == (None if want is None else Relation(*want)), text


def test_find_relations_is_one_entry_per_key_by_duckdbs_equality(
    tricky: duckdb.DuckDBPyConnection,
) -> None:
    """Keys equal under ASCII folding share one entry; no key gives an empty answer."""
    found = find_relations(tricky, [parse_table_key("main.shouty"), parse_table_key("MAIN.Shouty")])
    assert list(found.values()) == [Relation("memory", "main", "Shouty", "table")]
    assert find_relations(tricky, []) == {}


def test_two_part_keys_follow_the_current_database(tricky: duckdb.DuckDBPyConnection) -> None:
    tricky.execute("USE other")
    key = TableKey(None, "main", "t")
    assert find_relations(tricky, [key])[key] == Relation("other", "main", "t", "table")
    assert find_relation(tricky, TableKey(None, "main", "shouty")) is None
