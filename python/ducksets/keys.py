"""Table keys: the ``schema.name`` / ``database.schema.name`` text that names a relation.

A key is checked twice: token by token (so comments, whitespace, placeholders
and trailing statements cannot slip through, and each refusal gets a precise
reason) and by sqlglot, which must read it as a plain table reference.

Bare (unquoted) parts are accepted only when the pack's SQL pattern
(``metadata.table_key_pattern``, which admits any non-ASCII character there) accepts them too and
they are not DuckDB reserved words, so every key Python accepts also splits in
SQL the same way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import NoReturn

import sqlglot
from sqlglot import Token, TokenType, exp
from sqlglot.errors import ParseError, TokenError

from ducksets._dialect import DIALECT
from ducksets.errors import InvalidTableKeyError
from ducksets.sqltext import duckdb_reserved_words, qualified_name, quote_identifier

_HOW_TO_WRITE = (
    "write schema.name or database.schema.name, "
    "double-quoting parts with spaces, dots or other special characters"
)
_SPACE = "whitespace or a comment outside double quotes"


@dataclass(frozen=True, eq=False)
class TableKey:
    """A validated table key; parts hold names as spelled, without quotes.

    Equality and hashing ignore case, as DuckDB does for names.

    >>> key = parse_table_key('core."Odd Name"')
    >>> str(key), key.sql(), key == parse_table_key('CORE."odd name"')
    ('core."Odd Name"', '"core"."Odd Name"', True)
    """

    database: str | None
    schema: str
    name: str

    def _folded(self) -> tuple[str, ...]:
        return tuple(part.casefold() for part in self.parts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TableKey):
            return NotImplemented
        return self._folded() == other._folded()

    def __hash__(self) -> int:
        return hash(self._folded())

    @property
    def parts(self) -> tuple[str, ...]:
        """The present parts, outermost first: ``(schema, name)`` or ``(db, schema, name)``."""
        if self.database is None:
            return (self.schema, self.name)
        return (self.database, self.schema, self.name)

    def __str__(self) -> str:
        return qualified_name(*self.parts)

    def sql(self) -> str:
        """The key with every part double-quoted, ready to paste into SQL."""
        return ".".join(quote_identifier(part) for part in self.parts)


def parse_table_key(text: str) -> TableKey:
    """Parse and validate a table key.

    Parameters
    ----------
    text
        ``schema.name`` or ``database.schema.name``; parts may be double-quoted
        (``docs."odd.name"``), with embedded quotes doubled.

    Returns
    -------
    TableKey
        The parts, unquoted, as spelled.

    Raises
    ------
    InvalidTableKeyError
        The text is not exactly a 2- or 3-part name; the message says why.

    >>> parse_table_key('db."my schema".t').parts
    ('db', 'my schema', 't')
    """
    if not isinstance(text, str):
        _refuse(repr(text), "not a string")
    return _parse_cached(text)


# Plain lower-case keys are most keys (a catalog of 10,000 must bootstrap in
# well under a second): their parts tokenize as sqlglot VARs whenever they are
# neither sqlglot keywords nor DuckDB reserved words, and VAR.VAR[.VAR] always
# parses as a table. Everything else takes the full sqlglot path below; a
# property test checks the two paths agree.
_PLAIN_KEY = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*){1,2}")


@lru_cache(maxsize=65_536)
def _parse_cached(text: str) -> TableKey:
    if _PLAIN_KEY.fullmatch(text):
        parts = text.split(".")
        keywords = DIALECT.tokenizer_class.KEYWORDS
        reserved = duckdb_reserved_words()
        if not any(p.upper() in keywords or p in reserved for p in parts):
            if len(parts) == 2:
                return TableKey(None, parts[0], parts[1])
            return TableKey(parts[0], parts[1], parts[2])
    return _parse_with_sqlglot(text)


def _parse_with_sqlglot(text: str) -> TableKey:
    tokens = _tokens(text)
    parts = _part_tokens(text, tokens)
    try:
        table = sqlglot.parse_one(text, dialect=DIALECT, into=exp.Table)
    except ParseError as exc:
        _refuse(text, f"not a table name ({_first_line(exc)})")
    names = _table_parts(text, table)
    if len(names) != len(parts):
        _refuse(text, "not a plain table name")
    if len(names) == 2:
        return TableKey(None, names[0], names[1])
    return TableKey(names[0], names[1], names[2])


def _tokens(text: str) -> list[Token]:
    if not text.strip():
        _refuse(text, "empty key")
    try:
        return list(DIALECT.tokenize(text))
    except TokenError:
        _refuse(text, "unbalanced double quote")


def _part_tokens(text: str, tokens: list[Token]) -> list[Token]:
    """The identifier tokens of ``text``, after checking they alternate with dots."""
    parts: list[Token] = []
    position = 0
    for index, token in enumerate(tokens):
        if token.start != position:
            complete = index % 2 == 1 and len(parts) >= 2
            _refuse(text, "trailing text after the key" if complete else _SPACE)
        position = token.end + 1
        expect_part = index % 2 == 0
        if expect_part:
            _check_part(text, token)
            parts.append(token)
        elif token.token_type != TokenType.DOT:
            if token.token_type == TokenType.L_PAREN:
                _refuse(text, "a function call, not a table name")
            _refuse(text, "trailing text after the key")
        elif len(parts) == 3:
            _refuse(text, "more than three parts")
    if position != len(text):
        _refuse(text, _SPACE)
    if len(tokens) % 2 == 0:
        _refuse(text, "ends with a dot")
    if len(parts) < 2:
        _refuse(text, "only one part, the schema is missing")
    return parts


def _check_part(text: str, token: Token) -> None:
    if token.token_type == TokenType.IDENTIFIER:
        if not token.text:
            _refuse(text, "empty quoted part")
        return
    if token.token_type == TokenType.DOT:
        _refuse(text, "empty part between dots")
    if not _is_bare_name(token.text):
        _refuse(text, f"{token.text!r} is not a plain name; double-quote it")
    if token.text.lower() in duckdb_reserved_words():
        _refuse(text, f"{token.text!r} is a reserved word; double-quote it")


def _is_bare_name(part: str) -> bool:
    # Letters and digits of any script; the pack's SQL pattern admits a superset.
    first, rest = part[:1], part[1:]
    if not first or not (first == "_" or unicodedata.category(first).startswith("L")):
        return False
    return all(ch in "_$" or unicodedata.category(ch)[0] in "LN" for ch in rest)


def _table_parts(text: str, table: exp.Expr) -> list[str]:
    if not isinstance(table, exp.Table):
        _refuse(text, "not a table name")
    extra = [key for key, value in table.args.items() if value and key not in _PART_ARGS]
    if extra or table.comments:
        _refuse(text, "trailing text after the key")
    names: list[str] = []
    for arg in ("catalog", "db", "this"):
        part = table.args.get(arg)
        if part is None:
            continue
        if not isinstance(part, exp.Identifier) or not part.name:
            _refuse(text, "a part is not a plain or quoted name")
        names.append(part.name)
    return names


_PART_ARGS = frozenset({"this", "db", "catalog"})


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0]


def _refuse(text: str, reason: str) -> NoReturn:
    msg = f"invalid table key {text!r}: {reason}; {_HOW_TO_WRITE}"
    raise InvalidTableKeyError(msg)
