"""Checks that nothing of the pack reaches a database unchecked.

``lint_pack`` reads the pack's SQL with sqlglot (the DuckDB dialect of
``ducksets._dialect``), applies the rules below file by file, then installs the
pack twice into a scratch in-memory DuckDB and reports what failed.
``check_catalog_keys`` validates the table keys stored in an installed catalog.

Rules (every diagnostic's message starts with the rule's short name):

DS001 parse
    The file parses in the DuckDB dialect and makes one object: one statement,
    plus ``COMMENT ON`` statements for that same object.
DS002 statement-kind
    Only ``CREATE SCHEMA|TABLE ... IF NOT EXISTS``, ``CREATE OR REPLACE MACRO``,
    ``COMMENT ON`` and ``INSERT ... ON CONFLICT`` (the install record); no other
    DML or DDL, and nothing sqlglot only understood as a raw ``Command``.
DS003 pack-schema
    Every object is ``metadata.<name>``; every table a statement reads is a pack
    table (``metadata.<table>``), a CTE, or a DuckDB table function
    (``duckdb_tables()``, ``query_table(...)``, ...); pack macros are called
    as ``metadata.<macro>(...)``, since unqualified names resolve against the
    caller's search path.
DS004 parameter-shadows-column
    No macro parameter is named like a column of a table its body reads (pack
    tables, DuckDB catalog functions): the parameter would shadow the column.
DS005 header
    The file starts with ``-- metadata.<object> (<kind>)`` (or
    ``-- metadata (schema)``) naming what it makes, then ``-- Purpose:``,
    ``-- Parameters:`` and ``-- Example:``; the example parses.
DS006 manifest
    ``MANIFEST`` and the ``.sql`` files of the directory agree, both ways.
DS007 unordered-aggregate
    ``string_agg``/``group_concat``/``list``/``array_agg`` carry ``ORDER BY``:
    without it their order, and so the SQL text or path they build, is arbitrary.
DS008 install
    The pack installs into an empty in-memory DuckDB, and installs again over
    itself (installs must be idempotent).
DS009 alias-prefix
    In a macro with parameters, every table alias and CTE name starts with
    ``ducksets_``: DuckDB pastes arguments into the body, so a caller's
    ``d.name`` would bind to a body alias ``d`` (measured: ``dataset_exists(d.name)``
    compared a column with itself).

``check_catalog_keys`` reports under one id:

DS101 catalog-key
    A ``table_key`` in the catalog does not parse, or names no table or view.

``ducksets check`` adds, from ``ducksets.integrity``:

DS102 pack-object
    A pack object in the database is missing, or differs from the pack's own
    text or shape; ``ducksets install DB`` repairs it.

Pack macros are recognised where sqlglot parses their calls as anonymous
functions, which holds for every name sqlglot does not know as a built-in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
from sqlglot import Token, TokenType, exp
from sqlglot.errors import ParseError, SqlglotError

from ducksets._dialect import DIALECT
from ducksets._introspect import find_relation
from ducksets._names import bare_refused_keywords
from ducksets._pack_source import MANIFEST_NAME, read_manifest
from ducksets._query import fetch_one
from ducksets.errors import CatalogMissingError, InvalidTableKeyError
from ducksets.keys import TableKey, parse_table_key
from ducksets.pack import PACK_SCHEMA, install_macros, pack_dir
from ducksets.sqltext import format_identifier, qualified_name

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
    "DS101": "catalog-key",
    "DS102": "pack-object",
}
"""Rule id -> short name, as documented in this module's docstring."""

_HEADER = re.compile(r"^-- metadata(?:\.(?P<name>\w+))? \((?P<kind>[a-z ]+)\)$")
_SECTIONS = ("-- Purpose:", "-- Parameters:", "-- Example:")
_AGGREGATE_NAMES: Mapping[type[exp.Expr], str] = {
    exp.GroupConcat: "string_agg/group_concat",
    exp.ArrayAgg: "list/array_agg",
}


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


@dataclass(frozen=True)
class _Statement:
    tree: exp.Expr
    start: int
    sql: str


@dataclass(frozen=True)
class _SqlFile:
    path: Path
    text: str
    statements: tuple[_Statement, ...] | None
    """``None`` when the file did not parse."""

    def where(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line = self.text.count("\n", 0, offset) + 1
        return line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1

    def diagnostic(self, rule: str, message: str, offset: int = 0) -> Diagnostic:
        line, column = self.where(offset)
        return Diagnostic(str(self.path), line, column, rule, "error", f"{RULES[rule]}: {message}")


@dataclass(frozen=True)
class _PackModel:
    """What the pack defines, which the reading rules check against."""

    tables: Mapping[str, frozenset[str]]
    """Pack table name -> its column names, all casefolded."""
    macros: frozenset[str]
    """Pack macro names (scalar and table), casefolded."""


def lint_pack(paths: Sequence[Path] | None = None) -> list[Diagnostic]:
    """Lint the SQL pack.

    Parameters
    ----------
    paths
        Pack directories (holding a ``MANIFEST``) and single ``.sql`` files;
        default: the pack this package installs. Single files are checked as
        additions to that pack, and the manifest rule is skipped for them.

    Returns
    -------
    list[Diagnostic]
        Every problem found, in file order; empty when the pack is clean.
    """
    targets = [pack_dir()] if paths is None else [Path(p) for p in paths]
    diagnostics: list[Diagnostic] = []
    loose: list[Path] = []
    for target in targets:
        if target.is_dir():
            diagnostics.extend(_lint_directory(target))
        elif target.is_file() and target.suffix == ".sql":
            loose.append(target)
        else:
            message = f"{RULES['DS006']}: not a pack directory or a .sql file"
            diagnostics.append(Diagnostic(str(target), 1, 1, "DS006", "error", message))
    if loose:
        diagnostics.extend(_lint_loose_files(loose))
    return diagnostics


def _lint_directory(directory: Path) -> list[Diagnostic]:
    names, diagnostics = _manifest_names(directory)
    files = [_read(directory / name) for name in names if (directory / name).is_file()]
    model = _pack_model(files)
    for sql_file in files:
        diagnostics.extend(_lint_file(sql_file, model))
    diagnostics.extend(_install_diagnostics(files, with_installed_pack=False))
    return diagnostics


def _lint_loose_files(paths: Sequence[Path]) -> list[Diagnostic]:
    files = [_read(path) for path in paths]
    installed = [_read(pack_dir() / name) for name in read_manifest(pack_dir())]
    model = _pack_model([*installed, *files])
    diagnostics = [d for sql_file in files for d in _lint_file(sql_file, model)]
    diagnostics.extend(_install_diagnostics(files, with_installed_pack=True))
    return diagnostics


def _manifest_names(directory: Path) -> tuple[list[str], list[Diagnostic]]:
    """The files to lint in install order, and the manifest problems (DS006)."""
    manifest = directory / MANIFEST_NAME
    present = sorted(p.name for p in directory.glob("*.sql"))
    if not manifest.is_file():
        message = f"{RULES['DS006']}: no {MANIFEST_NAME} in {directory}; list the .sql files in it"
        return present, [Diagnostic(str(manifest), 1, 1, "DS006", "error", message)]
    diagnostics: list[Diagnostic] = []
    listed: list[str] = []
    lines = manifest.read_text(encoding="utf-8").splitlines()
    for number, raw in enumerate(lines, start=1):
        name = raw.strip()
        if not name or raw.startswith("#"):
            continue
        problem = None
        if name in listed:
            problem = f"{name} is listed twice"
        elif not (directory / name).is_file():
            problem = f"{name} is listed but does not exist; remove the line or add the file"
        if problem:
            diagnostics.append(
                Diagnostic(
                    str(manifest), number, 1, "DS006", "error", f"{RULES['DS006']}: {problem}"
                )
            )
        if name not in listed:
            listed.append(name)
    for name in sorted(set(present) - set(listed)):
        message = f"{RULES['DS006']}: not listed in {MANIFEST_NAME}, so it is never installed"
        diagnostics.append(Diagnostic(str(directory / name), 1, 1, "DS006", "error", message))
    return listed, diagnostics


# --- reading ---------------------------------------------------------------


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    # sqlglot logs a warning when it falls back to exp.Command; DS002 reports it instead.
    logger = logging.getLogger("sqlglot")
    previous = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = previous


def _read(path: Path) -> _SqlFile:
    text = path.read_text(encoding="utf-8")
    return _SqlFile(path, text, _parse_statements(text))


def _parse_statements(text: str) -> tuple[_Statement, ...] | None:
    try:
        return tuple(_statements(text))
    except SqlglotError:
        return None


def _statements(text: str) -> Iterator[_Statement]:
    """Each statement of ``text`` with its start offset and source text."""
    chunk: list[Token] = []
    with _quiet_sqlglot():
        for token in [*DIALECT.tokenize(text), None]:
            if token is not None and token.token_type != TokenType.SEMICOLON:
                chunk.append(token)
                continue
            if chunk:
                trees = DIALECT.parser().parse(chunk, text)
                source = text[chunk[0].start : chunk[-1].end + 1]
                yield from (_Statement(t, chunk[0].start, source) for t in trees if t is not None)
            chunk = []


def _parse_error(text: str) -> tuple[str, int]:
    """The first parse error of ``text`` and its offset."""
    try:
        _ = tuple(_statements(text))
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        line, col = int(first.get("line") or 1), int(first.get("col") or 1)
        offset = sum(len(row) + 1 for row in text.split("\n")[: line - 1]) + max(col - 1, 0)
        return str(first.get("description") or exc).splitlines()[0], min(offset, len(text))
    except SqlglotError as exc:
        return str(exc).splitlines()[0], 0
    return "unknown parse error", 0


def _pack_model(files: Sequence[_SqlFile]) -> _PackModel:
    tables: dict[str, frozenset[str]] = {}
    macros: set[str] = set()
    for sql_file in files:
        for statement in sql_file.statements or ():
            tree = statement.tree
            if not isinstance(tree, exp.Create):
                continue
            kind = str(tree.args.get("kind") or "").upper()
            target = _target(tree)
            if target is None or not target.name:
                continue
            if kind == "TABLE" and isinstance(tree.this, exp.Schema):
                columns = tree.this.find_all(exp.ColumnDef)
                tables[target.name.casefold()] = frozenset(c.name.casefold() for c in columns)
            elif kind in ("MACRO", "FUNCTION"):
                macros.add(target.name.casefold())
    return _PackModel(tables, frozenset(macros))


def _target(tree: exp.Expr) -> exp.Table | None:
    """The object a statement creates, comments on or inserts into."""
    node = tree.this
    if isinstance(node, (exp.Schema, exp.UserDefinedFunction)):
        node = node.this
    return node if isinstance(node, exp.Table) else None


def _object_name(tree: exp.Expr) -> str | None:
    """``schema.name`` of a statement's target, casefolded (``metadata`` for the schema)."""
    target = _target(tree)
    if target is None:
        return None
    if isinstance(tree, exp.Create) and str(tree.args.get("kind")).upper() == "SCHEMA":
        return (target.db or target.name).casefold()
    return f"{target.db}.{target.name}".casefold()


# --- per-file rules -----------------------------------------------------------


def _lint_file(sql_file: _SqlFile, model: _PackModel) -> list[Diagnostic]:
    if sql_file.statements is None:
        problem, offset = _parse_error(sql_file.text)
        message = f"does not parse as DuckDB SQL: {problem}"
        return [sql_file.diagnostic("DS001", message, offset), *_check_header(sql_file, None)]
    statements = sql_file.statements
    if not statements:
        return [sql_file.diagnostic("DS001", "no SQL statement; a pack file makes one object")]
    diagnostics = _check_one_object(sql_file, statements)
    for statement in statements:
        diagnostics.extend(_check_kind(sql_file, statement))
        diagnostics.extend(_check_schema(sql_file, statement, model))
        diagnostics.extend(_check_shadowing(sql_file, statement, model))
        diagnostics.extend(_check_aggregates(sql_file, statement))
        diagnostics.extend(_check_alias_prefix(sql_file, statement))
    diagnostics.extend(_check_header(sql_file, statements[0]))
    return diagnostics


def _check_one_object(sql_file: _SqlFile, statements: Sequence[_Statement]) -> list[Diagnostic]:
    makers = [s for s in statements if not isinstance(s.tree, exp.Comment)]
    if not makers:
        return [sql_file.diagnostic("DS001", "only COMMENT ON statements; nothing is created")]
    diagnostics = [
        sql_file.diagnostic(
            "DS001",
            "a second object in one file; move this statement to a file of its own",
            extra.start,
        )
        for extra in makers[1:]
    ]
    made = _object_name(makers[0].tree)
    for statement in statements:
        commented = _object_name(statement.tree)
        if isinstance(statement.tree, exp.Comment) and commented != made:
            message = f"COMMENT ON {commented} is not about this file's object {made}"
            diagnostics.append(sql_file.diagnostic("DS001", message, statement.start))
    return diagnostics


def _check_kind(sql_file: _SqlFile, statement: _Statement) -> list[Diagnostic]:
    problem = _kind_problem(statement.tree)
    return [] if problem is None else [sql_file.diagnostic("DS002", problem, statement.start)]


def _kind_problem(tree: exp.Expr) -> str | None:
    if isinstance(tree, exp.Command):
        return (
            f"sqlglot could not parse this {tree.name} statement (it fell back to a raw "
            "command), so nothing in it can be checked; parenthesise macro bodies"
        )
    if isinstance(tree, exp.Comment):
        return None
    if isinstance(tree, exp.Insert):
        if tree.args.get("conflict") is None:
            return "INSERT without ON CONFLICT; the only DML a pack may hold is its install upsert"
        return None
    if not isinstance(tree, exp.Create):
        return (
            f"{tree.key.upper()} statements are not allowed in the pack; it may only create "
            "schemas, tables and macros, comment on them, and upsert its install record"
        )
    kind = str(tree.args.get("kind") or "").upper()
    if any(isinstance(p, exp.TemporaryProperty) for p in tree.find_all(exp.TemporaryProperty)):
        return "a TEMPORARY object would vanish with the connection; create it in metadata"
    if kind in ("SCHEMA", "TABLE"):
        if tree.args.get("replace"):
            return f"CREATE OR REPLACE {kind} drops existing data; use CREATE {kind} IF NOT EXISTS"
        if not tree.args.get("exists"):
            return f"CREATE {kind} fails on re-install; use CREATE {kind} IF NOT EXISTS"
        return None
    if kind in ("MACRO", "FUNCTION"):
        if not tree.args.get("replace"):
            return (
                f"CREATE {kind} is not idempotent and never upgrades; use CREATE OR REPLACE MACRO"
            )
        return None
    return f"CREATE {kind} is not allowed; a pack creates only schemas, tables and macros"


def _check_schema(sql_file: _SqlFile, statement: _Statement, model: _PackModel) -> list[Diagnostic]:
    tree = statement.tree
    problems: list[tuple[str, exp.Expr]] = []
    target = _target(tree)
    if target is not None and not isinstance(tree, exp.Command):
        problems.extend(_target_problems(tree, target, model))
    ctes = {cte.alias_or_name.casefold() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if table is not target:
            problems.extend(_read_problems(table, ctes, model))
    for call in tree.find_all(exp.Anonymous):
        if not isinstance(call.parent, exp.Table):
            problems.extend(_call_problems(call, model))
    return [
        sql_file.diagnostic("DS003", message, _offset(node, statement.start))
        for message, node in problems
    ]


def _target_problems(
    tree: exp.Expr, target: exp.Table, model: _PackModel
) -> list[tuple[str, exp.Expr]]:
    is_schema = isinstance(tree, exp.Create) and str(tree.args.get("kind")).upper() == "SCHEMA"
    schema = target.db if not is_schema else (target.db or target.name)
    spelled = target.sql(dialect=DIALECT)
    if target.catalog or (is_schema and target.db and target.name):
        return [(f"{spelled} names a database; the pack names only its schema", target)]
    if schema.casefold() != PACK_SCHEMA:
        return [
            (
                f"{spelled or 'the object'} is not in the pack schema; write {PACK_SCHEMA}.<name>",
                target,
            )
        ]
    if isinstance(tree, exp.Insert) and target.name.casefold() not in model.tables:
        return [(f"{spelled} is not a table the pack creates", target)]
    return []


def _read_problems(
    table: exp.Table, ctes: set[str], model: _PackModel
) -> list[tuple[str, exp.Expr]]:
    spelled = ".".join(part for part in (table.catalog, table.db, table.name) if part)
    qualifier = table.db.casefold()
    if table.catalog:
        return [(f"{spelled} names a database; read pack tables as {PACK_SCHEMA}.<table>", table)]
    if isinstance(table.this, exp.Func):
        return _table_function_problems(table.this, qualifier, model)
    name = table.name.casefold()
    if not qualifier and name in ctes:
        return []
    if not qualifier:
        hint = (
            f"write {PACK_SCHEMA}.{table.name}" if name in model.tables else "read only pack tables"
        )
        return [
            (
                f"unqualified table {spelled} resolves against the caller's search path; {hint}",
                table,
            )
        ]
    if qualifier != PACK_SCHEMA:
        return [
            (
                f"{spelled} is outside the pack; "
                f"read only {PACK_SCHEMA} tables and DuckDB table functions",
                table,
            )
        ]
    if name not in model.tables:
        return [(f"{spelled} is not a table the pack creates", table)]
    return []


def _table_function_problems(
    function: exp.Func, qualifier: str, model: _PackModel
) -> list[tuple[str, exp.Expr]]:
    if not isinstance(function, exp.Anonymous):
        return []  # a table function sqlglot knows (range, read_csv, unnest, ...)
    name = function.name.casefold()
    if qualifier == PACK_SCHEMA:
        if name not in model.macros:
            return [
                (f"{PACK_SCHEMA}.{function.name}(...) is not a macro the pack creates", function)
            ]
        return []
    if name in model.macros:
        return [(f"call the pack's table macro as {PACK_SCHEMA}.{function.name}(...)", function)]
    if qualifier or name not in _duckdb_table_functions():
        return [
            (f"{function.name}(...) is neither a pack macro nor a DuckDB table function", function)
        ]
    return []


def _call_problems(call: exp.Anonymous, model: _PackModel) -> list[tuple[str, exp.Expr]]:
    name = call.name.casefold()
    parent = call.parent
    qualifier = None
    if (
        isinstance(parent, exp.Dot)
        and parent.expression is call
        and isinstance(parent.this, exp.Identifier)
    ):
        qualifier = parent.this.name.casefold()
    if qualifier == PACK_SCHEMA and name not in model.macros:
        return [(f"{PACK_SCHEMA}.{call.name}(...) is not a macro the pack creates", call)]
    if qualifier != PACK_SCHEMA and name in model.macros:
        return [
            (
                f"call to pack macro {call.name} resolves against the caller's search path; "
                f"write {PACK_SCHEMA}.{call.name}(...)",
                call,
            )
        ]
    return []


def _check_shadowing(
    sql_file: _SqlFile, statement: _Statement, model: _PackModel
) -> list[Diagnostic]:
    tree = statement.tree
    if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.UserDefinedFunction):
        return []
    diagnostics = []
    macro = tree.this.this.sql(dialect=DIALECT)
    for parameters, body in _overloads(tree):
        columns = _columns_read(body, model)
        for parameter in parameters:
            for table in sorted(columns.get(parameter.name.casefold(), ())):
                message = (
                    f"parameter {parameter.name} of {macro} shares its name with a column of "
                    f"{table}, which it would shadow in the body; "
                    f"rename it (e.g. p_{parameter.name})"
                )
                diagnostics.append(
                    sql_file.diagnostic("DS004", message, _offset(parameter, statement.start))
                )
    return diagnostics


ALIAS_PREFIX = "ducksets_"


def _check_alias_prefix(sql_file: _SqlFile, statement: _Statement) -> list[Diagnostic]:
    tree = statement.tree
    if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.UserDefinedFunction):
        return []
    diagnostics = []
    for parameters, body in _overloads(tree):
        if not parameters:
            continue  # nothing is pasted into a body without parameters
        for alias in body.find_all(exp.TableAlias):
            if alias.name and not alias.name.startswith(ALIAS_PREFIX):
                message = (
                    f"alias {alias.name} could capture a caller's {alias.name}.column argument; "
                    f"name it {ALIAS_PREFIX}{alias.name}"
                )
                diagnostics.append(
                    sql_file.diagnostic("DS009", message, _offset(alias, statement.start))
                )
    return diagnostics


def _overloads(tree: exp.Create) -> list[tuple[list[exp.Expr], exp.Expr]]:
    """(parameters, body) of each overload of a macro."""
    body = tree.expression
    if isinstance(body, exp.MacroOverloads):
        return [(list(o.expressions or ()), o.this) for o in body.expressions]
    parameters = list(tree.this.expressions or ())
    return [] if body is None else [(parameters, body)]


def _columns_read(body: exp.Expr, model: _PackModel) -> dict[str, set[str]]:
    """Column name -> the tables (as spelled) of ``body`` that have it."""
    columns: dict[str, set[str]] = {}
    for table in body.find_all(exp.Table):
        function = table.this
        if isinstance(function, exp.Anonymous) and not function.expressions and not table.db:
            names = _catalog_function_columns(function.name.casefold())
        elif table.db.casefold() == PACK_SCHEMA and not isinstance(function, exp.Func):
            names = model.tables.get(table.name.casefold(), frozenset())
        else:
            continue
        spelled = f"{function.name}()" if isinstance(function, exp.Func) else table.name
        spelled = f"{table.db}.{spelled}" if table.db else spelled
        for name in names:
            columns.setdefault(name, set()).add(spelled)
    return columns


def _check_aggregates(sql_file: _SqlFile, statement: _Statement) -> list[Diagnostic]:
    diagnostics = []
    for aggregate in statement.tree.find_all(*_AGGREGATE_NAMES):
        window = aggregate.parent
        if isinstance(aggregate.this, exp.Order):
            continue
        if isinstance(window, exp.Window) and window.args.get("order"):
            continue
        name = _AGGREGATE_NAMES[type(aggregate)]
        message = f"{name} without ORDER BY has an arbitrary order; add ORDER BY inside the call"
        diagnostics.append(
            sql_file.diagnostic("DS007", message, _offset(aggregate, statement.start))
        )
    return diagnostics


def _check_header(sql_file: _SqlFile, first: _Statement | None) -> list[Diagnostic]:
    lines = sql_file.text.split("\n")
    comments: list[str] = []
    for line in lines:
        if not line.startswith("--"):
            break
        comments.append(line)
    match = _HEADER.match(comments[0]) if comments else None
    if match is None:
        return [
            sql_file.diagnostic(
                "DS005",
                "first line must be '-- metadata.<object> (<kind>)' or '-- metadata (schema)'",
            )
        ]
    diagnostics = _header_kind_problems(sql_file, match, first)
    positions = [_section_line(comments, section) for section in _SECTIONS]
    missing = [s for s, p in zip(_SECTIONS, positions, strict=True) if p is None]
    if missing:
        message = f"header lacks {', '.join(repr(s) for s in missing)} before the SQL"
        return [*diagnostics, sql_file.diagnostic("DS005", message)]
    found = [p for p in positions if p is not None]
    if found != sorted(found):
        diagnostics.append(
            sql_file.diagnostic(
                "DS005", "header sections must come in the order Purpose, Parameters, Example"
            )
        )
    diagnostics.extend(_example_problems(sql_file, comments, found[-1]))
    return diagnostics


def _section_line(comments: Sequence[str], section: str) -> int | None:
    return next((i for i, line in enumerate(comments) if line.startswith(section)), None)


def _header_kind_problems(
    sql_file: _SqlFile, match: re.Match[str], first: _Statement | None
) -> list[Diagnostic]:
    if first is None:
        return []
    name, kind = match.group("name"), match.group("kind")
    made = _object_name(first.tree)
    expected_name = PACK_SCHEMA if name is None else f"{PACK_SCHEMA}.{name}".casefold()
    actual_kind = _statement_kind(first.tree)
    problems = []
    if made is not None and made != expected_name:
        problems.append(f"header names {expected_name} but the file makes {made}")
    if actual_kind is not None and actual_kind != kind:
        problems.append(f"header says ({kind}) but the statement makes a {actual_kind}")
    return [sql_file.diagnostic("DS005", problem) for problem in problems]


def _statement_kind(tree: exp.Expr) -> str | None:
    """The header kind a statement makes: schema, table, macro, table macro or row."""
    if isinstance(tree, exp.Insert):
        return "row"
    if not isinstance(tree, exp.Create):
        return None
    kind = str(tree.args.get("kind") or "").lower()
    if kind in ("macro", "function"):
        returns_table = any(p.args.get("is_table") for p in tree.find_all(exp.ReturnsProperty))
        overloads_table = any(o.args.get("is_table") for o in tree.find_all(exp.MacroOverload))
        return "table macro" if returns_table or overloads_table else "macro"
    return kind


def _example_problems(sql_file: _SqlFile, comments: Sequence[str], index: int) -> list[Diagnostic]:
    first = comments[index].removeprefix(_SECTIONS[2])
    rest = [line.removeprefix("--") for line in comments[index + 1 :]]
    example = "\n".join([first, *rest]).strip()
    offset = sum(len(line) + 1 for line in sql_file.text.split("\n")[:index])
    if not example:
        return [sql_file.diagnostic("DS005", "the example after '-- Example:' is empty", offset)]
    statements = _parse_statements(example)
    if statements is None:
        problem, _ = _parse_error(example)
        return [sql_file.diagnostic("DS005", f"the example does not parse: {problem}", offset)]
    if any(isinstance(s.tree, exp.Command) for s in statements):
        return [sql_file.diagnostic("DS005", "sqlglot could not parse the example", offset)]
    return []


def _offset(node: exp.Expr, fallback: int) -> int:
    """Where ``node`` starts in the file, from the token positions sqlglot keeps."""
    starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
    return min(starts, default=fallback)


# --- DuckDB ------------------------------------------------------------------


@cache
def _duckdb_table_functions() -> frozenset[str]:
    rows = duckdb.connect().execute(
        "SELECT DISTINCT function_name FROM duckdb_functions() "
        "WHERE function_type IN ('table', 'table_macro')"
    )
    return frozenset(str(row[0]).casefold() for row in rows.fetchall())


@cache
def _catalog_function_columns(name: str) -> frozenset[str]:
    """Result columns of an argument-less DuckDB table function such as ``duckdb_tables``."""
    if name not in _duckdb_table_functions():
        return frozenset()
    try:
        # The name is a known table function, quoted all the same.
        cursor = duckdb.connect().execute(f"SELECT * FROM {format_identifier(name)}() LIMIT 0")
    except duckdb.Error:
        return frozenset()
    return frozenset(str(column[0]).casefold() for column in cursor.description or ())


def _install_diagnostics(
    files: Sequence[_SqlFile], *, with_installed_pack: bool
) -> list[Diagnostic]:
    """Install ``files`` twice into a scratch database; report the first failure of each pass."""
    con = duckdb.connect()
    try:
        if with_installed_pack:
            install_macros(con)
        attempts = (
            "installing into an empty in-memory DuckDB",
            "installing a second time (every statement must be safe to re-run)",
        )
        for attempt in attempts:
            failure = _install_once(con, files, attempt)
            if failure is not None:
                return [failure]
        return []
    finally:
        con.close()


def _install_once(
    con: duckdb.DuckDBPyConnection, files: Sequence[_SqlFile], attempt: str
) -> Diagnostic | None:
    for sql_file in files:
        units = [(s.start, s.sql) for s in sql_file.statements or ()] or [(0, sql_file.text)]
        for start, sql in units:
            try:
                con.execute(sql)
            except duckdb.Error as exc:
                first_line = str(exc).splitlines()[0]
                message = f"{attempt} failed (later files not tried): {first_line}"
                return sql_file.diagnostic("DS008", message, start)
    return None


# --- the catalog ---------------------------------------------------------------


def check_catalog_keys(
    con: duckdb.DuckDBPyConnection, *, schema: str = PACK_SCHEMA, database: str | None = None
) -> list[Diagnostic]:
    """Validate every ``table_key`` in an installed catalog.

    Each key must parse (``parse_table_key``: the grammar and keyword rule
    ``catalog_drift`` applies too) and name an existing table or view, found
    as DuckDB resolves names (ASCII case ignored, nothing else; two-part keys
    name a schema of the connection's current database).

    Parameters
    ----------
    con
        A connection to the database holding the catalog.
    schema, database
        Where the catalog table ``datasets`` lives; default ``metadata`` in the
        current database.

    Returns
    -------
    list[Diagnostic]
        One per bad key; ``file`` is the catalog table, ``line`` the 1-based row
        number in ``ORDER BY table_key``.

    Raises
    ------
    CatalogMissingError
        The database has no catalog table.
    """
    bare_refused_keywords(con)  # read DuckDB's keywords through this connection, once
    current = _scalar(con, "SELECT current_database()")
    catalog_db = database or current
    catalog = find_relation(con, TableKey(catalog_db, schema, "datasets"))
    if catalog is None or catalog.kind != "table":
        where = qualified_name(catalog_db, schema)
        msg = (
            f"no catalog table {where}.datasets: the ducksets pack is not installed there; "
            "run install_macros(con) or `ducksets install DB` first"
        )
        raise CatalogMissingError(msg)
    table = qualified_name(database, schema, "datasets")
    rows = con.execute(f"SELECT table_key, name FROM {table} ORDER BY table_key").fetchall()
    diagnostics = []
    for number, (table_key, dataset_name) in enumerate(rows, start=1):
        problem = _key_problem(con, str(table_key))
        if problem is not None:
            message = f"dataset {dataset_name!r}: table_key {table_key!r}: {problem}"
            diagnostics.append(Diagnostic(table, number, 1, "DS101", "error", message))
    return diagnostics


def _key_problem(con: duckdb.DuckDBPyConnection, table_key: str) -> str | None:
    try:
        key = parse_table_key(table_key)
    except InvalidTableKeyError as exc:
        return f"{RULES['DS101']}: {exc}"
    if find_relation(con, key) is not None:
        return None
    return f"{RULES['DS101']}: no table or view {key} exists; create it or fix the row"


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    row = fetch_one(con, sql)
    assert row is not None
    return str(row[0])
