"""What the linter reports: a ``Diagnostic`` per problem, and the rule ids (see ``ducksets.lint``).

Standard library only, so that reading diagnostics (``ducksets check``,
``ducksets.integrity``) does not import sqlglot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

RULES: Mapping[str, str] = {
    "DS001": "parse",
    "DS002": "statement-kind",
    "DS003": "pack-schema",
    "DS004": "parameter-shadows-column",
    "DS005": "header",
    "DS006": "manifest",
    "DS007": "unordered-aggregate",
    "DS008": "install",
    "DS009": "alias-prefix",
    "DS010": "file-number",
    "DS011": "migration-name",
    "DS012": "migration-header",
    "DS013": "migration-statement",
    "DS014": "ducklake-variant",
    "DS101": "catalog-key",
    "DS102": "pack-object",
}
"""Rule id -> short name, as documented in ``ducksets.lint``."""


@dataclass(frozen=True)
class Diagnostic:
    """One problem found, located at a file, line and column (1-based)."""

    file: str
    line: int
    column: int
    rule: str
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.rule} {self.message}"


def rule_error(file: object, rule: str, problem: str, line: int = 1, column: int = 1) -> Diagnostic:
    """An error of ``rule`` whose message starts with the rule's short name."""
    return Diagnostic(str(file), line, column, rule, "error", f"{RULES[rule]}: {problem}")
