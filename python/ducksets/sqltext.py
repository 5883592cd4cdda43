"""The one place where names and values become SQL text.

Everything that pastes a schema, table key part, dataset name or path into a
statement goes through these functions. Where a value can be bound as a
parameter (``?``), bind it instead.

DuckDB quotes by doubling: an identifier between double quotes with ``"``
written ``""``, a string between single quotes with ``'`` written ``''``;
nothing else is escaped (a backslash is a backslash). That is the text
sqlglot's DuckDB dialect writes (``tests/test_names.py`` compares the two),
written here by hand so that the CLI does not import sqlglot when it starts.
"""

from __future__ import annotations

import re

from ducksets._names import bare_refused_keywords

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted identifier: ``we"ird`` -> ``"we""ird"``."""
    return '"' + name.replace('"', '""') + '"'


def format_identifier(name: str) -> str:
    """``name`` in canonical, minimally quoted form.

    Bare when it is a lower-case plain name and not a keyword DuckDB refuses
    bare where a name starts (``select``, ``join``), quoted otherwise: the same
    rule as the pack's ``format_ident`` macro. The rule does not depend on
    where the name stands, so a canonical name reads the same everywhere.

    >>> format_identifier("goids"), format_identifier("Odd Name"), format_identifier("select")
    ('goids', '"Odd Name"', '"select"')
    >>> format_identifier("values"), format_identifier("join")
    ('values', '"join"')
    """
    if _PLAIN_NAME.fullmatch(name) is not None and name not in bare_refused_keywords():
        return name  # a bare name is its own SQL
    return quote_identifier(name)


def qualified_name(*parts: str | None) -> str:
    """Dot-joined, minimally quoted name from its parts; ``None`` parts are left out.

    >>> qualified_name(None, "my schema", "t")
    '"my schema".t'
    """
    return ".".join(format_identifier(part) for part in parts if part is not None)


def quote_literal(text: str) -> str:
    """``text`` as a SQL string literal: ``O'Brien`` -> ``'O''Brien'``."""
    return "'" + text.replace("'", "''") + "'"
