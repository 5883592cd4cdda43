"""DS014: every pack file has a DuckLake variant (``ducksets._pack_keyless``), and it is keyless.

The installer derives the variant at install time, so a pack file it cannot
derive would only fail in a user's DuckLake. Here each file's variant is
derived, parsed, searched for what DuckLake refuses (keys, ``ON CONFLICT``,
``RETURNING``), and (``linter``) installed twice into a scratch DuckDB.
"""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from ducksets._pack_keyless import keyless_sql
from ducksets._pack_source import MIGRATIONS_DIR, file_phase
from ducksets.lint.diagnostic import Diagnostic
from ducksets.lint.source import SqlFile, node_offset, parse_statements

RULE = "DS014"

_REFUSED: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.PrimaryKeyColumnConstraint, "a PRIMARY KEY"),
    (exp.PrimaryKey, "a PRIMARY KEY"),
    (exp.UniqueColumnConstraint, "a UNIQUE constraint"),
    (exp.OnConflict, "ON CONFLICT"),
    (exp.Returning, "RETURNING"),
)


def phase_of(sql_file: SqlFile) -> str | None:
    """The install phase of a pack file or migration; ``None`` when its header is wrong (DS005)."""
    if sql_file.path.parent.name == MIGRATIONS_DIR:
        return "migration"
    try:
        return file_phase(sql_file.path.name, sql_file.text)
    except ValueError:
        return None


def keyless_file(sql_file: SqlFile) -> tuple[SqlFile | None, list[Diagnostic]]:
    """``sql_file``'s DuckLake variant, parsed, and DS014's problems with it.

    Files that do not parse or lack a header are left to DS001 and DS005.
    """
    phase = phase_of(sql_file)
    if sql_file.statements is None or phase is None:
        return None, []
    try:
        text = keyless_sql(sql_file.path.name, sql_file.text, phase)
    except ValueError as exc:
        message = f"no DuckLake variant: {exc}"
        return None, [sql_file.diagnostic(RULE, message)]
    variant = SqlFile(Path(sql_file.path), text, parse_statements(text))
    if variant.statements is None:
        message = "the DuckLake variant (keys removed) does not parse"
        return None, [sql_file.diagnostic(RULE, message)]
    problems = []
    for statement in variant.statements:
        for kind, what in _REFUSED:
            node = statement.tree.find(kind)
            if node is not None:
                message = f"the DuckLake variant still has {what}, which DuckLake refuses"
                offset = node_offset(node, statement.start)
                problems.append(sql_file.diagnostic(RULE, message, min(offset, len(sql_file.text))))
    return variant, problems
