"""DuckDB's own rules for names: how it folds case.

DuckDB compares names ignoring the case of ASCII letters only: ``"Ä"`` and
``"ä"`` are two tables, ``"Ab"`` and ``"AB"`` one. Python's ``str.casefold()``
and SQL's ``lower()`` fold all of Unicode, so neither may compare names.
"""

from __future__ import annotations

import string

_ASCII_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

SQL_ASCII_FOLD = "translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
"""SQL that folds an expression as DuckDB folds names; ``{}`` takes the expression."""


def fold_name(name: str) -> str:
    """``name`` folded as DuckDB compares names: ASCII letters lowered, nothing else.

    >>> fold_name("StraßE"), fold_name("Ä")
    ('straße', 'Ä')
    """
    return name.translate(_ASCII_FOLD)
