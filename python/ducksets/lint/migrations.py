"""The migration rules DS011-DS013 (see ``ducksets.lint``), over ``migrations/NNNN_slug.sql``.

Every install runs every migration, so a migration must be a no-op once
applied: the statement kinds allowed here are the idempotent ones. Pack files
keep their own rules (``rules.lint_file``); ``ALTER TABLE ... ADD COLUMN IF NOT
EXISTS`` is allowed here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlglot import exp

from ducksets._dialect import DIALECT
from ducksets._pack_source import MIGRATION_HEADER, MIGRATION_NAME
from ducksets.lint.diagnostic import Diagnostic, rule_error
from ducksets.lint.rules import check_aggregates, check_schema
from ducksets.lint.source import PackModel, SqlFile, Statement, node_offset, parse_error
from ducksets.pack import PACK_SCHEMA

_ALLOWED = (
    "a migration may only CREATE TABLE IF NOT EXISTS, ALTER TABLE ... ADD COLUMN IF NOT EXISTS, "
    "INSERT ... ON CONFLICT DO NOTHING, UPDATE ... WHERE and COMMENT ON"
)


def numbering_problems(paths: Sequence[Path], *, contiguous: bool = True) -> list[Diagnostic]:
    """DS011: names are ``NNNN_slug.sql``, numbered 0001, 0002, ... without gap or repeat.

    ``contiguous=False`` checks names and repeats only, for files linted one by one.
    """
    diagnostics = []
    seen: dict[int, str] = {}
    for path in paths:
        match = MIGRATION_NAME.match(path.name)
        if match is None:
            problem = "name it NNNN_slug.sql (four digits, then lower-case letters, digits and _)"
            diagnostics.append(rule_error(path, "DS011", problem))
            continue
        number = int(match.group("number"))
        if number in seen:
            problem = f"shares its number with {seen[number]}; give it the next free number"
            diagnostics.append(rule_error(path, "DS011", problem))
            continue
        expected = len(seen) + 1
        seen[number] = path.name
        if contiguous and number != expected:
            problem = f"expected number {expected:04d}: migrations count from 0001 without gaps"
            diagnostics.append(rule_error(path, "DS011", problem))
    return diagnostics


def lint_migration(sql_file: SqlFile, model: PackModel) -> list[Diagnostic]:
    """DS012 and DS013 (and DS001 parse, DS003 schema, DS007 aggregates) for one migration."""
    diagnostics = _header_problems(sql_file)
    if sql_file.statements is None:
        error, offset = parse_error(sql_file.text)
        message = f"does not parse as DuckDB SQL: {error}"
        return [*diagnostics, sql_file.diagnostic("DS001", message, offset)]
    if not sql_file.statements:
        diagnostics.append(
            sql_file.diagnostic("DS013", "no SQL statement; a migration holds one or more")
        )
    for statement in sql_file.statements:
        kind_problem = _kind_problem(statement.tree)
        if kind_problem is not None:
            diagnostics.append(sql_file.diagnostic("DS013", kind_problem, statement.start))
        diagnostics.extend(check_schema(sql_file, statement, model))
        diagnostics.extend(_column_target_problems(sql_file, statement, model))
        diagnostics.extend(check_aggregates(sql_file, statement))
    return diagnostics


def _header_problems(sql_file: SqlFile) -> list[Diagnostic]:
    first = sql_file.text.split("\n", 1)[0]
    named = MIGRATION_NAME.match(sql_file.path.name)
    number = named.group("number") if named else "NNNN"
    header = MIGRATION_HEADER.match(first)
    if header is not None and (named is None or header.group("number") == number):
        return []
    problem = f"first line must be '-- migration {number}: <one-line summary>'"
    if header is not None:
        problem = f"header says migration {header.group('number')} in file {number}; {problem}"
    return [sql_file.diagnostic("DS012", problem)]


def _kind_problem(tree: exp.Expr) -> str | None:
    """Why ``tree`` is not an idempotent migration statement, or ``None``."""
    if isinstance(tree, exp.Command):
        return f"sqlglot could not parse this {tree.name} statement, so it cannot be checked"
    if isinstance(tree, (exp.Comment, exp.Update, exp.Insert, exp.Alter, exp.Create)):
        return _form_problem(tree)
    return f"{tree.key.upper()} is not allowed: {_ALLOWED}"


def _form_problem(tree: exp.Expr) -> str | None:
    if isinstance(tree, exp.Update) and tree.args.get("where") is None:
        return "UPDATE without WHERE changes every row at each install; add WHERE <not yet done>"
    if isinstance(tree, exp.Insert):
        conflict = tree.args.get("conflict")
        action = conflict.args.get("action") if isinstance(conflict, exp.OnConflict) else None
        if str(action.name if action else "").upper() != "DO NOTHING":
            return "INSERT without ON CONFLICT DO NOTHING is not a no-op when re-run"
    if isinstance(tree, exp.Alter):
        added = all(
            isinstance(a, exp.ColumnDef) and a.args.get("exists") for a in tree.actions or ()
        )
        if str(tree.args.get("kind")).upper() != "TABLE" or not tree.actions or not added:
            return (
                "this ALTER fails or changes the table again when re-run; the one ALTER "
                "a migration may hold is ALTER TABLE ... ADD COLUMN IF NOT EXISTS"
            )
    if isinstance(tree, exp.Create):
        temporary = any(True for _ in tree.find_all(exp.TemporaryProperty))
        kind = str(tree.args.get("kind") or "").upper()
        if kind != "TABLE" or tree.args.get("replace") or temporary:
            return f"CREATE {kind} is not allowed: {_ALLOWED}"
        if not tree.args.get("exists"):
            return "CREATE TABLE fails when re-run; use CREATE TABLE IF NOT EXISTS"
    return None


def _column_target_problems(
    sql_file: SqlFile, statement: Statement, model: PackModel
) -> list[Diagnostic]:
    """DS003 for ``COMMENT ON COLUMN schema.table.column``, whose target is no table node."""
    column = statement.tree.this
    if not isinstance(statement.tree, exp.Comment) or not isinstance(column, exp.Column):
        return []
    spelled = column.sql(dialect=DIALECT)
    if column.catalog or column.db.casefold() != PACK_SCHEMA:
        problem = (
            f"column {spelled} is not in the pack schema; write {PACK_SCHEMA}.<table>.<column>"
        )
    elif column.table.casefold() not in model.tables:
        problem = f"column {spelled} is not in a table the pack creates"
    else:
        return []
    return [sql_file.diagnostic("DS003", problem, node_offset(column, statement.start))]
