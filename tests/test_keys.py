"""parse_table_key and TableKey: what a key may be, and that Python and the pack agree."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ducksets import install_macros
from ducksets._names import bare_refused_keywords
from ducksets.errors import InvalidTableKeyError
from ducksets.keys import _BARE_PART, TableKey, parse_table_key
from ducksets.sqltext import quote_identifier

# Any identifier text DuckDB can hold: non-empty, any character but NUL; lone
# surrogates are left out because they are not Unicode text (UTF-8 cannot hold them).
identifier_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=12
)
plain_part = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
# Text shaped like keys, valid or not: parts (names, quoted names, junk) joined by dots.
key_part = st.one_of(
    st.from_regex(r"[^\W\d]\w{0,5}", fullmatch=True),
    identifier_text.map(quote_identifier),
    st.sampled_from(["", "select", "$x", "1a", "a b", '"', "a()"]),
)
key_like_text = st.builds(
    lambda parts, suffix: ".".join(parts) + suffix,
    st.lists(key_part, min_size=1, max_size=4),
    st.sampled_from(["", "", "", " ", ";", "()", " x", "--"]),
)


@pytest.fixture(scope="module")
def pack_con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    install_macros(con)
    return con


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("core.goids", ("core", "goids")),
        ("db.core.goids", ("db", "core", "goids")),
        ('docs."odd.name"', ("docs", "odd.name")),
        ('"we""ird".t', ('we"ird', "t")),
        ('"my schema"."Mixed Case"', ("my schema", "Mixed Case")),
        ("Core.Goids", ("Core", "Goids")),
        ("ä.ö", ("ä", "ö")),
        ("a.b$", ("a", "b$")),
        ("a.time", ("a", "time")),
        ('a."select"', ("a", "select")),
        # After a dot DuckDB reads any keyword as a name; before one, most.
        ("a.select", ("a", "select")),
        ("values.install", ("values", "install")),
        ("explain.pivot", ("explain", "pivot")),
        ("db.select.from", ("db", "select", "from")),
        ("a.b\u200cc", ("a", "b\u200cc")),
        ('a."b\u00a0c"', ("a", "b\u00a0c")),
    ],
)
def test_valid_keys_keep_their_spelling(text: str, parts: tuple[str, ...]) -> None:
    assert parse_table_key(text).parts == parts


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a.b; DROP TABLE c", "trailing text"),
        ("a.b;", "trailing text"),
        ("a.b.c.d", "more than three parts"),
        ("a", "only one part"),
        ("a.b()", "function call"),
        ("a.b(1)", "function call"),
        ("a.b AS c", "trailing text"),
        ("a.b c", "trailing text"),
        ("a.b AT (VERSION => 1)", "trailing text"),
        ('a."b" "c"', "trailing text"),
        ("a.b[1]", "trailing text"),
        (" a.b", "whitespace"),
        ("a.b ", "whitespace"),
        ("a . b", "whitespace"),
        ("a.b--x", "comment"),
        ("a./* c */b", "comment"),
        ("", "empty key"),
        ("   ", "empty key"),
        ('a.""', "empty quoted part"),
        (".a.b", "empty part"),
        ("a..b", "empty part"),
        ("a.b.", "ends with a dot"),
        ('"a.b', "unbalanced double quote"),
        ("a.*", "not a plain name"),
        ("a.$x", "not a plain name"),
        ("@a.b", "not a plain name"),
        ("a.1b", "not a plain name"),
        ("table.t", "reserved word"),
        ("SELECT.t", "reserved word"),
        ("join.t", "reserved word"),
        ("select.a.b", "reserved word"),
        ('a."b\x00"', "NUL"),
        # DuckDB's parser reads these Unicode spaces as whitespace.
        ("a.b\u00a0c", "trailing text"),
        ("\u3000a.b", "whitespace"),
        ("\u200ba.b", "not a plain name"),
        ("a.b\ufeff", "trailing text"),
        ("a.\ud800", "not valid Unicode"),
    ],
)
def test_invalid_keys_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidTableKeyError, match=reason) as caught:
        parse_table_key(text)
    message = str(caught.value)
    assert repr(text) in message
    assert "write schema.name or database.schema.name" in message
    assert caught.value.key == text
    assert caught.value.reason is not None and caught.value.reason in message


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid table key"):
        parse_table_key("a.b; DROP TABLE c")


def test_str_is_minimally_quoted_and_sql_fully_quoted() -> None:
    key = TableKey("db", "my schema", "goids")
    assert str(key) == 'db."my schema".goids'
    assert key.sql() == '"db"."my schema"."goids"'
    assert str(TableKey(None, "core", "select")) == 'core."select"'
    assert str(TableKey(None, "Core", "t")) == '"Core".t'


def test_equality_and_hash_ignore_ascii_case_but_spelling_is_kept() -> None:
    upper, lower = parse_table_key("Core.Goids"), parse_table_key("core.goids")
    assert upper == lower
    assert hash(upper) == hash(lower)
    assert len({upper, lower}) == 1
    assert upper.parts == ("Core", "Goids")
    assert TableKey("db", "core", "goids") != TableKey(None, "core", "goids")
    assert TableKey(None, "core", "a") != TableKey(None, "core", "b")
    assert parse_table_key('s."Ä"') != parse_table_key('s."ä"')
    assert parse_table_key("s.straße") != parse_table_key("s.STRASSE")


@given(schema=identifier_text, name=identifier_text)
def test_quoted_form_round_trips_any_identifier(schema: str, name: str) -> None:
    key = TableKey(None, schema, name)
    assert parse_table_key(key.sql()).parts == key.parts
    assert parse_table_key(str(key)).parts == key.parts
    assert parse_table_key(key.sql()) == key


@given(database=identifier_text, schema=identifier_text, name=identifier_text)
def test_three_part_keys_round_trip(database: str, schema: str, name: str) -> None:
    key = TableKey(database, schema, name)
    assert parse_table_key(str(key)).parts == key.parts
    assert parse_table_key(key.sql()) == key


@given(schema=plain_part, name=plain_part)
def test_canonical_form_of_plain_names_is_bare_unless_refused(schema: str, name: str) -> None:
    text = str(TableKey(None, schema, name))
    assert parse_table_key(text).parts == (schema, name)
    quoted = [part for part in (schema, name) if part in bare_refused_keywords()]
    assert text.count('"') == 2 * len(quoted)


@given(
    key=st.builds(TableKey, st.none(), plain_part, plain_part),
    junk=st.sampled_from(
        ["; DROP TABLE x", " AS y", "()", ".c.d", " --", "/* */", " ", "(1)", ".", "[0]", " x"]
    ),
)
def test_junk_after_a_valid_key_is_refused(key: TableKey, junk: str) -> None:
    with pytest.raises(InvalidTableKeyError):
        parse_table_key(str(key) + junk)


@settings(max_examples=200)
@given(schema=identifier_text, name=identifier_text)
def test_pack_split_table_key_agrees_with_python(
    pack_con: duckdb.DuckDBPyConnection, schema: str, name: str
) -> None:
    key = TableKey(None, schema, name)
    for text in (str(key), key.sql()):
        row = pack_con.execute("SELECT metadata.split_table_key(?)", [text]).fetchone()
        assert row is not None
        assert row[0] == {"catalog_name": None, "schema_name": schema, "relation_name": name}


@settings(max_examples=300)
@given(text=key_like_text)
def test_every_key_python_accepts_splits_identically_in_sql(
    pack_con: duckdb.DuckDBPyConnection, text: str
) -> None:
    # Python's accepted set is a subset of the SQL pattern's: the pack may accept
    # more (e.g. bare reserved words), never less.
    try:
        key = parse_table_key(text)
    except InvalidTableKeyError:
        return
    row = pack_con.execute("SELECT metadata.split_table_key(?)", [text]).fetchone()
    assert row is not None
    assert row[0] == {
        "catalog_name": key.database,
        "schema_name": key.schema,
        "relation_name": key.name,
    }


def test_sql_splits_a_key_python_refuses_for_its_keyword(
    pack_con: duckdb.DuckDBPyConnection,
) -> None:
    # split_table_key is the grammar only; catalog_drift adds the keyword rule
    # (tests/test_names.py checks drift, check and parse agree on every keyword).
    row = pack_con.execute("SELECT metadata.split_table_key('select.t')").fetchone()
    assert row is not None
    assert row[0] is not None
    with pytest.raises(InvalidTableKeyError):
        parse_table_key("select.t")


# --- Python's grammar is DuckDB's ---------------------------------------------------

_DUCKDB_PART = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_$]{0,5}", fullmatch=True),
    st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters='\x00."'),
        min_size=1,
        max_size=4,
    ),
    identifier_text.map(quote_identifier),
    st.sampled_from(["select", "join", "map", "values", "1a", "$x", "a b", "\u00a0", "é$"]),
)


def _duckdb_table_parts(con: duckdb.DuckDBPyConnection, text: str) -> tuple[str, ...] | None:
    """The parts DuckDB's parser reads from ``FROM <text> AS probe``, if ``text`` is all a name.

    The alias after the text proves the parser consumed all of it (DuckDB
    would otherwise take ``a.b,`` or ``a.b c`` as a table and more).
    """
    sql = f"SELECT * FROM {text} AS ducksets_probe"
    row = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    assert row is not None
    tree = json.loads(row[0])
    if tree["error"] or len(tree["statements"]) != 1:
        return None
    table = tree["statements"][0]["node"]["from_table"]
    if table.get("type") != "BASE_TABLE" or table.get("alias") != "ducksets_probe":
        return None
    parts = (table.get("catalog_name"), table.get("schema_name"), table.get("table_name"))
    return tuple(p for p in parts if p)


# The Unicode spaces DuckDB's parser reads as whitespace, and ASCII's.
_SPACES = set(" \u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b")
_SPACES |= set("\u202f\u205f\u2060\u3000\ufeff")
_CONTROL = {chr(c) for c in range(1, 32)} | {"\x7f"}


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(_DUCKDB_PART, min_size=2, max_size=3))
def test_python_reads_a_dotted_name_as_duckdb_does(
    pack_con: duckdb.DuckDBPyConnection, parts: list[str]
) -> None:
    text = ".".join(parts)
    duckdb_parts = _duckdb_table_parts(pack_con, text)
    try:
        python_parts: tuple[str, ...] | None = parse_table_key(text).parts
    except InvalidTableKeyError:
        python_parts = None
    if python_parts is None and duckdb_parts is not None:
        # Stricter than DuckDB on purpose: SQL allows spaces (Unicode ones too)
        # and comments around dots (a .b, a/**/.b); DuckDB 2.0 takes ASCII
        # control characters bare and `backtick` quotes (1.2 does neither);
        # 'a string' is a file to scan, not a name. A key is written the one
        # way every supported version reads as a name.
        assert _CONTROL & set(text) or _SPACES & set(text) or {"`", "'", "/"} & set(text)
    else:
        assert python_parts == duckdb_parts


# DuckDB's name characters as ranges (the spelling keys.py had): every non-ASCII
# character but the Unicode spaces its parser reads as whitespace.
_NON_ASCII_RANGES = (
    "\u0080-\u009f\u00a1-\u1fff\u200c-\u202e\u2030-\u205e\u2061-\u2fff"
    "\u3001-\ufefe\uff00-\U0010ffff"
)


def test_every_code_point_is_a_name_character_as_the_ranges_say() -> None:
    first = re.compile(f"[A-Za-z_{_NON_ASCII_RANGES}]")
    later = re.compile(f"[A-Za-z0-9_${_NON_ASCII_RANGES}]")
    wrong = [
        hex(code)
        for code in range(0x110000)
        if bool(_BARE_PART.fullmatch(chr(code))) != bool(first.fullmatch(chr(code)))
        or bool(_BARE_PART.fullmatch("a" + chr(code))) != bool(later.fullmatch(chr(code)))
    ]
    assert wrong == []
