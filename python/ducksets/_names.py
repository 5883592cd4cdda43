"""DuckDB's own rules for names: how it folds case, and which keywords need quotes.

DuckDB compares names ignoring the case of ASCII letters only: ``"Ä"`` and
``"ä"`` are two tables, ``"Ab"`` and ``"AB"`` one. Python's ``str.casefold()``
and SQL's ``lower()`` fold all of Unicode, so neither may compare names.

Keywords: after a dot DuckDB takes any keyword as a name (``core.select``),
but a name that starts a dotted reference (``select.t``, ``join.t``) must not
be a keyword its parser reserves there. That is every ``reserved`` keyword and
most ``type_function`` ones (``join``, ``like``, ``left``; not ``map`` or
``struct``), and it moves between DuckDB versions, so the set is read from the
running DuckDB by asking its parser (``BARE_REFUSED_KEYWORDS_SQL``), the same
query the pack runs.
"""

from __future__ import annotations

import string
import threading

import duckdb

_ASCII_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

SQL_ASCII_FOLD = (
    "CASE WHEN strlen({0}) = length({0}) THEN lower({0}) "
    "ELSE translate({0}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') END"
)
"""SQL that folds an expression as DuckDB folds names; ``{0}`` takes the expression.

``lower()`` for ASCII-only text (``strlen`` = ``length``), where it is exact
and cheaper than ``translate()``, which folds the rest (A-Z only).
"""

BARE_REFUSED_KEYWORDS_SQL = """
    SELECT ducksets_kw.keyword_name
    FROM duckdb_keywords() AS ducksets_kw
    WHERE ducksets_kw.keyword_category IN ('reserved', 'type_function')
        AND json_extract_string(
            json_serialize_sql('SELECT * FROM ' || ducksets_kw.keyword_name || '.t'), '$.error'
        ) = 'true'
"""
"""The keywords DuckDB's parser refuses bare as the first part of a name (lower case).

Only ``reserved`` and ``type_function`` keywords are probed: ``unreserved``
and ``column_name`` ones are names everywhere (measured on every keyword of
DuckDB 1.2.2 and 2.0.1). ``macros/32_format_ident.sql`` and
``macros/43_catalog_drift.sql`` run this same query.
"""

_FALLBACK_SQL = """
    SELECT keyword_name FROM duckdb_keywords()
    WHERE keyword_category IN ('reserved', 'type_function')
"""

_lock = threading.Lock()
_refused: frozenset[str] | None = None


def fold_name(name: str) -> str:
    """``name`` folded as DuckDB compares names: ASCII letters lowered, nothing else.

    >>> fold_name("StraßE"), fold_name("Ä")
    ('straße', 'Ä')
    """
    return name.translate(_ASCII_FOLD)


def bare_refused_keywords(con: duckdb.DuckDBPyConnection | None = None) -> frozenset[str]:
    """Keywords that must be double-quoted to start a name, in lower case.

    Read once per process from DuckDB (the keyword list belongs to the DuckDB
    library, not to a database): through ``con`` when given, else through a
    private in-memory connection opened on first use.

    >>> "select" in bare_refused_keywords(), "values" in bare_refused_keywords()
    (True, False)
    """
    global _refused
    if _refused is not None:
        return _refused
    with _lock:
        if _refused is None:
            _refused = _read_refused(con)
    return _refused


def _read_refused(con: duckdb.DuckDBPyConnection | None) -> frozenset[str]:
    if con is not None:
        try:
            return _query_refused(con.cursor())
        except duckdb.Error:
            pass  # a closed or unusable connection: ask a private one instead
    return _query_refused(duckdb.connect())


def _query_refused(cursor: duckdb.DuckDBPyConnection) -> frozenset[str]:
    try:
        try:
            rows = cursor.execute(BARE_REFUSED_KEYWORDS_SQL).fetchall()
        except duckdb.Error:
            # A DuckDB built without the json extension cannot ask its parser;
            # both categories then count as refused, which quotes a few more.
            rows = cursor.execute(_FALLBACK_SQL).fetchall()
    finally:
        cursor.close()
    return frozenset(str(row[0]) for row in rows)
