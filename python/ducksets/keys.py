"""Table keys: the ``schema.name`` / ``database.schema.name`` text that names a relation.

The grammar is DuckDB's, written once here and mirrored by the pack's
``metadata.table_key_pattern``: a part is either double-quoted (anything but
empty, ``""`` for a quote) or bare (an ASCII letter, ``_`` or a non-ASCII
character first, then also digits and ``$``; the Unicode spaces DuckDB reads
as whitespace are not name characters). DuckDB's keyword rule comes on
top: a bare first part must not be a keyword its parser refuses there
(``select.t`` and ``join.t`` need ``"select".t``); after a dot any keyword is
a name (``core.select``, ``values.install``). Each refusal names its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NoReturn

from ducksets._names import bare_refused_keywords, fold_name
from ducksets.errors import InvalidTableKeyError
from ducksets.sqltext import qualified_name, quote_identifier

_HOW_TO_WRITE = (
    "write schema.name or database.schema.name, "
    "double-quoting parts with spaces, dots or other special characters"
)
_SPACE = "whitespace or a comment outside double quotes"

_QUOTED = r'"(?:[^"]|"")+"'
# Non-ASCII characters are name characters, except the Unicode spaces DuckDB's
# parser turns into whitespace (measured over every code point): U+00A0,
# U+2000-U+200B, U+202F, U+205F, U+2060, U+3000, U+FEFF. The classes say what
# a name character is not: spelled as ranges up to U+10FFFF, the same sets
# took about 25 ms to compile at every import (the CLI's start).
_SPACES = "\u00a0\u2000-\u200b\u202f\u205f\u2060\u3000\ufeff"
_NOT_FIRST_ASCII = r"\x00-\x40\x5b-\x5e\x60\x7b-\x7f"  # ASCII but A-Z, a-z and _
_NOT_NEXT_ASCII = r"\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f"  # and not 0-9, $
_BARE = rf"[^{_NOT_FIRST_ASCII}{_SPACES}][^{_NOT_NEXT_ASCII}{_SPACES}]*"
_PART = f"({_QUOTED}|{_BARE})"
_KEY = re.compile(rf"{_PART}\.{_PART}(?:\.{_PART})?")
_BARE_PART = re.compile(_BARE)
_NOT_A_PART_END = re.compile(r'[.\s"(]')


@dataclass(frozen=True, eq=False)
class TableKey:
    """A validated table key; parts hold names as spelled, without quotes.

    Equality and hashing ignore the case of ASCII letters only, as DuckDB
    compares names (``"Ä"`` and ``"ä"`` are two relations).

    >>> key = parse_table_key('core."Odd Name"')
    >>> str(key), key.sql(), key == parse_table_key('CORE."odd name"')
    ('core."Odd Name"', '"core"."Odd Name"', True)
    """

    database: str | None
    schema: str
    name: str

    def _folded(self) -> tuple[str, ...]:
        # Folded once per key: a key is hashed and compared many times (dicts,
        # lookups), and folding each time cost more than the lookups.
        try:
            return self.__dict__["_fold"]  # type: ignore[no-any-return]
        except KeyError:
            folded = tuple(fold_name(part) for part in self.parts)
            object.__setattr__(self, "_fold", folded)
            return folded

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
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
        """The canonical text: bare where a part is a plain lower-case name, else quoted."""
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
        The text is not exactly a 2- or 3-part name; ``reason`` says why.

    >>> parse_table_key('db."my schema".t').parts
    ('db', 'my schema', 't')
    >>> parse_table_key("values.install").parts
    ('values', 'install')
    """
    if not isinstance(text, str):
        _refuse(repr(text), "not a string")
    return _parse_cached(text)


@lru_cache(maxsize=65_536)
def _parse_cached(text: str) -> TableKey:
    match = _KEY.fullmatch(text)
    if match is None or "\x00" in text:
        _refuse(text, _reason(text))
    written = [p for p in match.groups() if p is not None]
    first = written[0]
    if not first.startswith('"') and fold_name(first) in bare_refused_keywords():
        _refuse(
            text,
            f"{first!r} is a reserved word where a name starts (DuckDB keyword); "
            f'double-quote it: "{first}"',
        )
    parts = [_unquote(p) for p in written]
    if not text.isascii():
        _check_unicode(text, parts)
    if len(parts) == 2:
        return TableKey(None, parts[0], parts[1])
    return TableKey(parts[0], parts[1], parts[2])


def _unquote(written: str) -> str:
    if written.startswith('"'):
        return written[1:-1].replace('""', '"')
    return written


def _check_unicode(text: str, parts: list[str]) -> None:
    for part in parts:
        try:
            part.encode("utf-8")
        except UnicodeEncodeError:
            _refuse(text, "a part is not valid Unicode text (a lone surrogate)")


def _reason(text: str) -> str:
    """Why ``text``, which the grammar refused, is not a key: the first problem, left to right."""
    if not text.strip():
        return "empty key"
    if "\x00" in text:
        return "a NUL character"
    count, position = 0, 0
    while True:
        problem, position = _scan_part(text, position)
        if problem is not None:
            return problem
        count += 1
        if position == len(text):
            return "only one part, the schema is missing" if count < 2 else "not a table name"
        char = text[position]
        if char == ".":
            if count == 3:
                return "more than three parts"
            position += 1
            if position == len(text):
                return "ends with a dot"
            continue
        if char == "(":
            return "a function call, not a table name"
        return _after_key(text, position, count)


def _scan_part(text: str, position: int) -> tuple[str | None, int]:
    """The problem with the part at ``position`` (or ``None``) and where the part ends."""
    char = text[position]
    if char == '"':
        end = position + 1
        while True:
            end = text.find('"', end)
            if end < 0:
                return "unbalanced double quote", position
            if text.startswith('""', end):
                end += 2
                continue
            break
        if end == position + 1:
            return "empty quoted part", position
        return None, end + 1
    if char == ".":
        return "empty part between dots", position
    if char.isspace() or text.startswith(("--", "/*"), position):
        return _SPACE, position
    bare = _BARE_PART.match(text, position)
    if bare is None:
        stop = _NOT_A_PART_END.search(text, position + 1)
        word = text[position : stop.start() if stop else len(text)]
        return f"{word!r} is not a plain name; double-quote it", position
    return None, bare.end()


def _after_key(text: str, position: int, count: int) -> str:
    """What follows a complete part at ``position``: whitespace, a comment or other text."""
    rest = text[position:]
    if not (rest[0].isspace() or rest.startswith(("--", "/*"))):
        return "trailing text after the key"
    following = re.sub(r"^(?:\s+|--[^\n]*|/\*.*?\*/)+", "", rest, flags=re.DOTALL)
    if count >= 2 and following and not following.startswith("."):
        return "trailing text after the key"
    return _SPACE


def _refuse(text: str, reason: str) -> NoReturn:
    msg = f"invalid table key {text!r}: {reason}; {_HOW_TO_WRITE}"
    raise InvalidTableKeyError(msg, key=text, reason=reason)
