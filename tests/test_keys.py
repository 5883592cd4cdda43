"""parse_table_key and TableKey: what a key may be, and that Python and the pack agree."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ducksets import install_macros
from ducksets._dialect import DIALECT
from ducksets.errors import InvalidTableKeyError
from ducksets.keys import TableKey, _parse_with_sqlglot, parse_table_key
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
        ("a.select", "reserved word"),
        ("table.t", "reserved word"),
    ],
)
def test_invalid_keys_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidTableKeyError, match=reason) as caught:
        parse_table_key(text)
    message = str(caught.value)
    assert repr(text) in message
    assert "write schema.name or database.schema.name" in message


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid table key"):
        parse_table_key("a.b; DROP TABLE c")


def test_str_is_minimally_quoted_and_sql_fully_quoted() -> None:
    key = TableKey("db", "my schema", "goids")
    assert str(key) == 'db."my schema".goids'
    assert key.sql() == '"db"."my schema"."goids"'
    assert str(TableKey(None, "core", "select")) == 'core."select"'
    assert str(TableKey(None, "Core", "t")) == '"Core".t'


def test_equality_and_hash_ignore_case_but_spelling_is_kept() -> None:
    upper, lower = parse_table_key("Core.Goids"), parse_table_key("core.goids")
    assert upper == lower
    assert hash(upper) == hash(lower)
    assert len({upper, lower}) == 1
    assert upper.parts == ("Core", "Goids")
    assert TableKey("db", "core", "goids") != TableKey(None, "core", "goids")
    assert TableKey(None, "core", "a") != TableKey(None, "core", "b")


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
def test_canonical_form_of_plain_names_is_bare_unless_reserved(schema: str, name: str) -> None:
    text = str(TableKey(None, schema, name))
    assert parse_table_key(text).parts == (schema, name)
    assert text.count('"') in (0, 2, 4)


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


def test_sql_accepts_bare_reserved_words_that_python_refuses(
    pack_con: duckdb.DuckDBPyConnection,
) -> None:
    # The documented difference: the pack's pattern does not know reserved words.
    row = pack_con.execute("SELECT metadata.split_table_key('a.select')").fetchone()
    assert row is not None
    assert row[0] is not None
    with pytest.raises(InvalidTableKeyError):
        parse_table_key("a.select")


# --- the fast path for plain keys ------------------------------------------------

_WORDS = st.one_of(
    st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True),
    # sqlglot keywords and DuckDB reserved words in lower case: the fast path must defer them.
    st.sampled_from(sorted(k.lower() for k in DIALECT.tokenizer_class.KEYWORDS if k.isalpha())),
)


@given(st.lists(_WORDS, min_size=1, max_size=4))
def test_plain_keys_parse_the_same_on_the_fast_and_the_sqlglot_path(parts: list[str]) -> None:
    text = ".".join(parts)
    try:
        slow: TableKey | InvalidTableKeyError = _parse_with_sqlglot(text)
    except InvalidTableKeyError as exc:
        slow = exc
    try:
        fast: TableKey | InvalidTableKeyError = parse_table_key(text)
    except InvalidTableKeyError as exc:
        fast = exc
    if isinstance(slow, TableKey):
        assert isinstance(fast, TableKey) and fast.parts == slow.parts
    else:
        assert isinstance(fast, InvalidTableKeyError) and str(fast) == str(slow)
