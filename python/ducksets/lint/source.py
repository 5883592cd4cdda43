"""The pack linter's model: SQL files read and parsed with sqlglot, and what the pack defines."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
from sqlglot import Token, TokenType, exp
from sqlglot.errors import ParseError, SqlglotError

from ducksets._dialect import DIALECT
from ducksets.errors import first_line
from ducksets.lint.diagnostic import Diagnostic, rule_error
from ducksets.sqltext import format_identifier


@dataclass(frozen=True)
class Statement:
    tree: exp.Expr
    start: int
    sql: str


@dataclass(frozen=True)
class SqlFile:
    path: Path
    text: str
    statements: tuple[Statement, ...] | None
    """``None`` when the file did not parse."""

    def where(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line = self.text.count("\n", 0, offset) + 1
        return line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1

    def diagnostic(self, rule: str, message: str, offset: int = 0) -> Diagnostic:
        line, column = self.where(offset)
        return rule_error(self.path, rule, message, line, column)


@dataclass(frozen=True)
class PackModel:
    """What the pack defines, which the reading rules check against."""

    tables: Mapping[str, frozenset[str]]
    """Pack table name -> its column names, all casefolded."""
    macros: frozenset[str]
    """Pack macro names (scalar and table), casefolded."""


@contextmanager
def quiet_sqlglot() -> Iterator[None]:
    # sqlglot logs a warning when it falls back to exp.Command; DS002 reports it instead.
    logger = logging.getLogger("sqlglot")
    previous = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = previous


def read_sql_file(path: Path) -> SqlFile:
    text = path.read_text(encoding="utf-8")
    return SqlFile(path, text, parse_statements(text))


def parse_statements(text: str) -> tuple[Statement, ...] | None:
    try:
        return tuple(_statements(text))
    except SqlglotError:
        return None


def _statements(text: str) -> Iterator[Statement]:
    """Each statement of ``text`` with its start offset and source text."""
    chunk: list[Token] = []
    with quiet_sqlglot():
        for token in [*DIALECT.tokenize(text), None]:
            if token is not None and token.token_type != TokenType.SEMICOLON:
                chunk.append(token)
                continue
            if chunk:
                trees = DIALECT.parser().parse(chunk, text)
                source = text[chunk[0].start : chunk[-1].end + 1]
                yield from (Statement(t, chunk[0].start, source) for t in trees if t is not None)
            chunk = []


def parse_error(text: str) -> tuple[str, int]:
    """The first parse error of ``text`` and its offset."""
    try:
        _ = tuple(_statements(text))
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        line, col = int(first.get("line") or 1), int(first.get("col") or 1)
        offset = sum(len(row) + 1 for row in text.split("\n")[: line - 1]) + max(col - 1, 0)
        return first_line(ValueError(first.get("description") or exc)), min(offset, len(text))
    except SqlglotError as exc:
        return first_line(exc), 0
    return "unknown parse error", 0


def pack_model(files: Sequence[SqlFile]) -> PackModel:
    tables: dict[str, frozenset[str]] = {}
    macros: set[str] = set()
    for sql_file in files:
        for statement in sql_file.statements or ():
            tree = statement.tree
            if not isinstance(tree, exp.Create):
                continue
            kind = str(tree.args.get("kind") or "").upper()
            target = statement_target(tree)
            if target is None or not target.name:
                continue
            if kind == "TABLE" and isinstance(tree.this, exp.Schema):
                columns = tree.this.find_all(exp.ColumnDef)
                tables[target.name.casefold()] = frozenset(c.name.casefold() for c in columns)
            elif kind in ("MACRO", "FUNCTION"):
                macros.add(target.name.casefold())
    return PackModel(tables, frozenset(macros))


def statement_target(tree: exp.Expr) -> exp.Table | None:
    """The object a statement creates, comments on or inserts into."""
    node = tree.this
    if isinstance(node, (exp.Schema, exp.UserDefinedFunction)):
        node = node.this
    return node if isinstance(node, exp.Table) else None


def object_name(tree: exp.Expr) -> str | None:
    """``schema.name`` of a statement's target, casefolded (``metadata`` for the schema)."""
    target = statement_target(tree)
    if target is None:
        return None
    if isinstance(tree, exp.Create) and str(tree.args.get("kind")).upper() == "SCHEMA":
        return (target.db or target.name).casefold()
    return f"{target.db}.{target.name}".casefold()


def node_offset(node: exp.Expr, fallback: int) -> int:
    """Where ``node`` starts in the file, from the token positions sqlglot keeps."""
    starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
    return min(starts, default=fallback)


@cache
def _scratch() -> duckdb.DuckDBPyConnection:
    """One empty in-memory DuckDB per process, for questions about DuckDB itself."""
    return duckdb.connect()


@cache
def duckdb_table_functions() -> frozenset[str]:
    """Names of DuckDB's table functions (and table macros), folded."""
    rows = _scratch().execute(
        "SELECT DISTINCT function_name FROM duckdb_functions() "
        "WHERE function_type IN ('table', 'table_macro')"
    )
    return frozenset(str(row[0]).casefold() for row in rows.fetchall())


@cache
def catalog_function_columns(name: str) -> frozenset[str]:
    """Result columns of an argument-less DuckDB table function such as ``duckdb_tables``."""
    if name not in duckdb_table_functions():
        return frozenset()
    try:
        # The name is a known table function, quoted all the same.
        cursor = _scratch().execute(f"SELECT * FROM {format_identifier(name)}() LIMIT 0")
    except duckdb.Error:
        return frozenset()
    return frozenset(str(column[0]).casefold() for column in cursor.description or ())
