"""The pack linter's rules DS001-DS007 and DS009, a check function each (see ``ducksets.lint``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sqlglot import exp

from ducksets._dialect import DIALECT
from ducksets._pack_source import HEADER
from ducksets.lint.diagnostic import Diagnostic
from ducksets.lint.source import (
    PackModel,
    SqlFile,
    Statement,
    catalog_function_columns,
    duckdb_table_functions,
    node_offset,
    object_name,
    parse_error,
    parse_statements,
    statement_target,
)
from ducksets.pack import PACK_SCHEMA

_SECTIONS = ("-- Purpose:", "-- Parameters:", "-- Example:")


_AGGREGATE_NAMES: Mapping[type[exp.Expr], str] = {
    exp.GroupConcat: "string_agg/group_concat",
    exp.ArrayAgg: "list/array_agg",
}


def lint_file(sql_file: SqlFile, model: PackModel) -> list[Diagnostic]:
    if sql_file.statements is None:
        problem, offset = parse_error(sql_file.text)
        message = f"does not parse as DuckDB SQL: {problem}"
        return [sql_file.diagnostic("DS001", message, offset), *_check_header(sql_file, None)]
    statements = sql_file.statements
    if not statements:
        return [sql_file.diagnostic("DS001", "no SQL statement; a pack file makes one object")]
    diagnostics = _check_one_object(sql_file, statements)
    for statement in statements:
        diagnostics.extend(_check_kind(sql_file, statement))
        diagnostics.extend(check_schema(sql_file, statement, model))
        diagnostics.extend(_check_shadowing(sql_file, statement, model))
        diagnostics.extend(check_aggregates(sql_file, statement))
        diagnostics.extend(_check_alias_prefix(sql_file, statement))
    diagnostics.extend(_check_header(sql_file, statements[0]))
    return diagnostics


def _check_one_object(sql_file: SqlFile, statements: Sequence[Statement]) -> list[Diagnostic]:
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
    made = object_name(makers[0].tree)
    for statement in statements:
        commented = object_name(statement.tree)
        if isinstance(statement.tree, exp.Comment) and commented != made:
            message = f"COMMENT ON {commented} is not about this file's object {made}"
            diagnostics.append(sql_file.diagnostic("DS001", message, statement.start))
    return diagnostics


def _check_kind(sql_file: SqlFile, statement: Statement) -> list[Diagnostic]:
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
    if isinstance(tree, exp.Alter):
        return (
            "ALTER is not allowed in a pack file; a change to a pack table's shape is a "
            "migration (migrations/NNNN_slug.sql, ADD COLUMN IF NOT EXISTS)"
        )
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


def check_schema(sql_file: SqlFile, statement: Statement, model: PackModel) -> list[Diagnostic]:
    tree = statement.tree
    problems: list[tuple[str, exp.Expr]] = []
    target = statement_target(tree)
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
        sql_file.diagnostic("DS003", message, node_offset(node, statement.start))
        for message, node in problems
    ]


def _target_problems(
    tree: exp.Expr, target: exp.Table, model: PackModel
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
    table: exp.Table, ctes: set[str], model: PackModel
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
    function: exp.Func, qualifier: str, model: PackModel
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
    if qualifier or name not in duckdb_table_functions():
        return [
            (f"{function.name}(...) is neither a pack macro nor a DuckDB table function", function)
        ]
    return []


def _call_problems(call: exp.Anonymous, model: PackModel) -> list[tuple[str, exp.Expr]]:
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


def _check_shadowing(sql_file: SqlFile, statement: Statement, model: PackModel) -> list[Diagnostic]:
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
                    sql_file.diagnostic("DS004", message, node_offset(parameter, statement.start))
                )
    return diagnostics


ALIAS_PREFIX = "ducksets_"


def _check_alias_prefix(sql_file: SqlFile, statement: Statement) -> list[Diagnostic]:
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
                    sql_file.diagnostic("DS009", message, node_offset(alias, statement.start))
                )
    return diagnostics


def _overloads(tree: exp.Create) -> list[tuple[list[exp.Expr], exp.Expr]]:
    """(parameters, body) of each overload of a macro."""
    body = tree.expression
    if isinstance(body, exp.MacroOverloads):
        return [(list(o.expressions or ()), o.this) for o in body.expressions]
    parameters = list(tree.this.expressions or ())
    return [] if body is None else [(parameters, body)]


def _columns_read(body: exp.Expr, model: PackModel) -> dict[str, set[str]]:
    """Column name -> the tables (as spelled) of ``body`` that have it."""
    columns: dict[str, set[str]] = {}
    for table in body.find_all(exp.Table):
        function = table.this
        if isinstance(function, exp.Anonymous) and not function.expressions and not table.db:
            names = catalog_function_columns(function.name.casefold())
        elif table.db.casefold() == PACK_SCHEMA and not isinstance(function, exp.Func):
            names = model.tables.get(table.name.casefold(), frozenset())
        else:
            continue
        spelled = f"{function.name}()" if isinstance(function, exp.Func) else table.name
        spelled = f"{table.db}.{spelled}" if table.db else spelled
        for name in names:
            columns.setdefault(name, set()).add(spelled)
    return columns


def check_aggregates(sql_file: SqlFile, statement: Statement) -> list[Diagnostic]:
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
            sql_file.diagnostic("DS007", message, node_offset(aggregate, statement.start))
        )
    return diagnostics


def _check_header(sql_file: SqlFile, first: Statement | None) -> list[Diagnostic]:
    lines = sql_file.text.split("\n")
    comments: list[str] = []
    for line in lines:
        if not line.startswith("--"):
            break
        comments.append(line)
    match = HEADER.match(comments[0]) if comments else None
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
    sql_file: SqlFile, match: re.Match[str], first: Statement | None
) -> list[Diagnostic]:
    if first is None:
        return []
    name, kind = match.group("name"), match.group("kind")
    made = object_name(first.tree)
    expected_name = PACK_SCHEMA if name is None else f"{PACK_SCHEMA}.{name}".casefold()
    actual_kind = statement_kind(first.tree)
    problems = []
    if made is not None and made != expected_name:
        problems.append(f"header names {expected_name} but the file makes {made}")
    if actual_kind is not None and actual_kind != kind:
        problems.append(f"header says ({kind}) but the statement makes a {actual_kind}")
    return [sql_file.diagnostic("DS005", problem) for problem in problems]


def statement_kind(tree: exp.Expr) -> str | None:
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


def _example_problems(sql_file: SqlFile, comments: Sequence[str], index: int) -> list[Diagnostic]:
    first = comments[index].removeprefix(_SECTIONS[2])
    rest = [line.removeprefix("--") for line in comments[index + 1 :]]
    example = "\n".join([first, *rest]).strip()
    offset = sum(len(line) + 1 for line in sql_file.text.split("\n")[:index])
    if not example:
        return [sql_file.diagnostic("DS005", "the example after '-- Example:' is empty", offset)]
    statements = parse_statements(example)
    if statements is None:
        problem, _ = parse_error(example)
        return [sql_file.diagnostic("DS005", f"the example does not parse: {problem}", offset)]
    if any(isinstance(s.tree, exp.Command) for s in statements):
        return [sql_file.diagnostic("DS005", "sqlglot could not parse the example", offset)]
    return []
