"""Values by table key, found as DuckDB compares names, parsing as few key texts as can be.

The registry's lookups (declared schemas, row bindings, by-key lookups) and
its descriptions (``_comments.catalog_comments``) all match catalog key texts
this way, so a catalog of any size loads in linear time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from ducksets._names import fold_name
from ducksets.errors import DucksetsError
from ducksets.keys import TableKey, parse_table_key

_T = TypeVar("_T")


class KeyIndex(Generic[_T]):
    """Values by table key, found as DuckDB compares names, parsing as few keys as can be.

    A key text without double quotes names its parts exactly as written (a
    bare part holds no dot), so it can equal another key only when both, with
    parts joined by dots, fold alike. The index files each text under that
    joined form (unquoted texts need no parsing for it) and parses only the
    texts filed under the form looked up. So a catalog of any size loads and
    indexes in linear time, and a row whose key does not parse matches nothing
    (drift reports it).
    """

    def __init__(self, items: Iterable[tuple[str, _T]]) -> None:
        # Texts by joined form: nearly always one, so a list only for the rest.
        self._by_joined: dict[str, tuple[str, _T]] = {}
        self._more: dict[str, list[tuple[str, _T]]] = {}
        by_joined = self._by_joined
        for text, value in items:
            joined = joined_form(text)
            if joined is None:
                continue
            if joined in by_joined:
                self._more.setdefault(joined, []).append((text, value))
            else:
                by_joined[joined] = (text, value)

    def __bool__(self) -> bool:
        return bool(self._by_joined)

    def get(self, key: TableKey | str) -> _T | None:
        """The value given for ``key`` (a ``TableKey``, or a text parsed only when it may match)."""
        if not self._by_joined:
            return None
        if isinstance(key, str):
            joined = joined_form(key)
            parsed = key_or_none(key) if joined in self._by_joined else None
            if parsed is None:
                return None
            key = parsed
        joined = fold_name(".".join(key.parts))
        first = self._by_joined.get(joined)
        found = None
        for text, value in (first, *self._more.get(joined, ())) if first else ():
            if key_or_none(text) == key:
                found = value  # the last one given, as a dict built from the items keeps
        return found


def joined_form(text: str) -> str | None:
    """Key ``text``'s parts joined by dots and folded; ``None`` if it surely does not parse.

    A text without double quotes names its parts exactly as written (a bare
    part holds no dot), so only quoted texts need parsing.
    """
    if '"' not in text:
        # str.lower() is DuckDB's fold for ASCII text, and the faster one.
        return text.lower() if text.isascii() else fold_name(text)
    key = key_or_none(text)
    return None if key is None else fold_name(".".join(key.parts))


def key_or_none(table_key: str) -> TableKey | None:
    """The parsed key, or ``None`` for a key that does not parse (a catalog row written by SQL)."""
    try:
        return parse_table_key(table_key)
    except DucksetsError:
        return None
