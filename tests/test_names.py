"""DuckDB's own rules for names, in Python and in the pack: case folding and keywords.

Every keyword DuckDB lists (``duckdb_keywords()``) is tried as a schema and as
a table name against real DuckDB: created, registered, synced, read back, and
its key's canonical text parsed back to an equal key.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

import ducksets
from ducksets import install_macros
from ducksets._names import SQL_ASCII_FOLD, _read_refused, bare_refused_keywords, fold_name
from ducksets.catalog import register_dataset
from ducksets.errors import InvalidTableKeyError
from ducksets.keys import TableKey, parse_table_key
from ducksets.lint import check_catalog_keys
from ducksets.registry import load_dataset_registry
from ducksets.relation import dataset_relation
from ducksets.sqltext import format_identifier, quote_identifier, quote_literal
from ducksets.sync import sync_catalog

KEYWORDS: list[tuple[str, str]] = (
    duckdb.connect()
    .execute("SELECT keyword_name, keyword_category FROM duckdb_keywords() ORDER BY 1")
    .fetchall()
)
# A few keywords are listed twice (2.0 lists map, struct, ... as type_function and column_name).
WORDS = sorted({word for word, _ in KEYWORDS})

identifier_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=10
)


@pytest.fixture(scope="module")
def pack_con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    install_macros(con)
    return con


def duckdb_parses(con: duckdb.DuckDBPyConnection, table_text: str) -> bool:
    """Whether DuckDB's own parser reads ``SELECT * FROM <table_text>``."""
    row = con.execute("SELECT json_serialize_sql(?)", [f"SELECT * FROM {table_text}"]).fetchone()
    assert row is not None
    return not json.loads(row[0])["error"]


# --- case folding -------------------------------------------------------------


def test_fold_name_lowers_ascii_letters_only() -> None:
    assert fold_name("ÄbC") == "Äbc"
    assert fold_name("STRASSE") != fold_name("straße")
    assert TableKey(None, "s", "Ä") != TableKey(None, "s", "ä")
    assert TableKey(None, "S", "Ab") == TableKey(None, "s", "aB")
    assert len({TableKey(None, "s", "Ä"), TableKey(None, "s", "ä")}) == 2


@settings(max_examples=100, deadline=None)
@given(names=st.lists(identifier_text, min_size=1, max_size=20))
def test_sql_fold_is_python_fold(pack_con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    rows = pack_con.execute(
        f"SELECT n, {SQL_ASCII_FOLD.format('n')} FROM unnest(?) AS u(n)", [names]
    ).fetchall()
    assert sorted(rows) == sorted((n, fold_name(n)) for n in names)


# --- keywords: the rule, measured against DuckDB's parser -----------------------


def test_the_rule_is_what_duckdb_parses_for_every_keyword(
    pack_con: duckdb.DuckDBPyConnection,
) -> None:
    refused = bare_refused_keywords()
    assert refused == bare_refused_keywords(pack_con)
    assert {c for w, c in KEYWORDS if w in refused} <= {"reserved", "type_function"}
    assert {w for w, c in KEYWORDS if c == "reserved"} <= refused
    mismatches = []
    for word in WORDS:
        for text in (f"{word}.t", f"t.{word}", f"{word}.{word}", f"d.{word}.t", f"{word}.s.t"):
            try:
                parse_table_key(text)
                python = True
            except InvalidTableKeyError:
                python = False
            if python != duckdb_parses(pack_con, text):
                mismatches.append(text)
    assert mismatches == []


def test_keywords_are_read_through_a_given_connection_or_a_private_one() -> None:
    closed = duckdb.connect()
    closed.close()
    assert _read_refused(closed) == _read_refused(None) == bare_refused_keywords()


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(exclude_categories=["Cs"])))
def test_quoting_writes_what_sqlglot_writes_for_duckdb(text: str) -> None:
    assert quote_identifier(text) == exp.to_identifier(text, quoted=True).sql(dialect="duckdb")
    assert quote_literal(text) == exp.Literal.string(text).sql(dialect="duckdb")


@settings(max_examples=100, deadline=None)
@given(text=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))
def test_quoted_text_reads_back_in_duckdb(text: str) -> None:
    con = duckdb.connect()
    row = con.execute(f"SELECT {quote_literal(text)} AS {quote_identifier(text or 'x')}")
    assert row.fetchone() == (text,)
    assert row.description is not None
    assert row.description[0][0] == (text or "x")


def test_names_keys_and_quoting_load_without_sqlglot() -> None:
    # The CLI imports these at start; sqlglot (tens of ms to import) is for the linter.
    # The modules are imported on their own: the package's __init__ imports everything.
    code = (
        "import sys, types\n"
        "package = types.ModuleType('ducksets')\n"
        f"package.__path__ = [{str(Path(ducksets.__file__).parent)!r}]\n"
        "sys.modules['ducksets'] = package\n"
        "sys.modules['sqlglot'] = None  # importing it now raises ImportError\n"
        "import ducksets._names, ducksets.sqltext, ducksets.keys\n"
        "print(ducksets.keys.parse_table_key('select_.t'), ducksets.sqltext.quote_literal(\"'\"))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "select_.t ''''\n"


def test_refusal_of_a_bare_keyword_says_to_quote_it() -> None:
    with pytest.raises(InvalidTableKeyError, match="'select' is a reserved word") as caught:
        parse_table_key("select.t")
    assert caught.value.key == "select.t"
    assert "double-quote it" in str(caught.value)
    with pytest.raises(InvalidTableKeyError, match="'JOIN' is a reserved word"):
        parse_table_key("JOIN.t")
    assert parse_table_key('"select".t').parts == ("select", "t")
    assert parse_table_key("values.install").parts == ("values", "install")


@pytest.mark.parametrize("word", WORDS)
def test_every_keyword_round_trips_as_schema_and_name(word: str) -> None:
    for key in (
        TableKey(None, word, word),
        TableKey(None, "s", word),
        TableKey(None, word.upper(), "t"),
        TableKey(word, word, word),
    ):
        again = parse_table_key(str(key))
        assert again == key
        assert again.parts == key.parts
        assert parse_table_key(key.sql()).parts == key.parts


def test_every_keyword_as_schema_and_name_is_registrable_and_readable(
    fresh_con: duckdb.DuckDBPyConnection,
) -> None:
    con = fresh_con
    install_macros(con)
    for number, word in enumerate(WORDS):
        quoted = quote_identifier(word)
        # Three parts: "system"."system" alone is ambiguous with the system catalog.
        con.execute(f"CREATE SCHEMA memory.{quoted}")
        con.execute(f"CREATE TABLE memory.{quoted}.{quoted} AS SELECT {number} AS marker")
    problems = []
    for number, word in enumerate(WORDS):
        key = TableKey(None, word, word)
        table_key = register_dataset(con, str(key), name=f"kw {number}")
        if parse_table_key(table_key) != key:
            problems.append(("register", word, table_key))
        rows = dataset_relation(con, f"kw {number}").fetchall()
        if rows != [(number,)]:
            problems.append(("read", word, rows))
    assert problems == []
    assert sync_catalog(con, WORDS).left == tuple(str(TableKey(None, w, w)) for w in WORDS)
    assert con.execute("SELECT * FROM metadata.catalog_drift()").fetchall() == []
    assert check_catalog_keys(con) == []


def test_every_keyword_as_a_table_name_is_synced_and_readable(
    fresh_con: duckdb.DuckDBPyConnection,
) -> None:
    con = fresh_con
    install_macros(con)
    con.execute("CREATE SCHEMA kw_tables")
    for number, word in enumerate(WORDS):
        con.execute(f"CREATE TABLE kw_tables.{quote_identifier(word)} AS SELECT {number} AS m")
    report = sync_catalog(con, ["kw_tables"])
    assert report.skipped == ()
    assert report.added == tuple(str(TableKey(None, "kw_tables", w)) for w in WORDS)
    registry = load_dataset_registry(con)
    problems = []
    for number, word in enumerate(WORDS):
        dataset = registry.dataset_for_table(TableKey(None, "kw_tables", word))
        if dataset.name != word:
            problems.append(("name", word, dataset.name))
        rows = con.execute("FROM metadata.dataset_rows(?)", [dataset.table_key]).fetchall()
        if rows != [(number,)]:
            problems.append(("read", word, rows))
    assert problems == []
    assert con.execute("SELECT * FROM metadata.catalog_drift()").fetchall() == []
    assert check_catalog_keys(con) == []


# --- one canonical form in Python and in SQL -----------------------------------


def test_format_ident_agrees_with_python_on_every_keyword(
    pack_con: duckdb.DuckDBPyConnection,
) -> None:
    names = [*WORDS, *(w.upper() for w in WORDS), *(w.capitalize() for w in WORDS)]
    rows = pack_con.execute(
        "SELECT n, metadata.format_ident(n) FROM unnest(?) AS u(n)", [names]
    ).fetchall()
    assert len(rows) == len(names)
    assert [(n, f) for n, f in rows if f != format_identifier(n)] == []


@settings(max_examples=200, deadline=None)
@given(names=st.lists(identifier_text, min_size=1, max_size=20))
def test_format_ident_agrees_with_python_on_any_name(
    pack_con: duckdb.DuckDBPyConnection, names: list[str]
) -> None:
    rows = pack_con.execute(
        "SELECT n, metadata.format_ident(n) FROM unnest(?) AS u(n)", [names]
    ).fetchall()
    assert sorted(rows) == sorted((n, format_identifier(n)) for n in names)


# --- one validity rule for ducksets check and catalog_drift --------------------


def test_check_and_drift_agree_on_every_keyword_key(fresh_con: duckdb.DuckDBPyConnection) -> None:
    con = fresh_con
    install_macros(con)
    texts = [
        text
        for word in WORDS
        for text in (f"{word}.t", f"t.{word}", f'"{word}".t', f"{word}.{word}")
    ]
    con.execute(
        "INSERT INTO metadata.datasets (table_key, name, is_view) "
        "SELECT k, 'n' || row_number() OVER (), FALSE FROM unnest(?) AS u(k)",
        [texts],
    )
    drift_invalid = {
        r[0]
        for r in con.execute(
            "SELECT table_key FROM metadata.catalog_drift() WHERE drift = 'invalid_key'"
        ).fetchall()
    }
    ordered = [
        r[0] for r in con.execute("SELECT table_key FROM metadata.datasets ORDER BY 1").fetchall()
    ]
    check_invalid = {
        ordered[d.line - 1] for d in check_catalog_keys(con) if "invalid table key" in d.message
    }
    python_invalid = set()
    for text in texts:
        try:
            parse_table_key(text)
        except InvalidTableKeyError:
            python_invalid.add(text)
    assert drift_invalid == python_invalid
    assert check_invalid == python_invalid
    assert "select.t" in python_invalid and "t.select" not in python_invalid
    assert "values.install" not in python_invalid
