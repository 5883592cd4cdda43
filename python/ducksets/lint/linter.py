"""``lint_pack``'s work: read the files, apply the rules, install into a scratch DuckDB (DS008)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from ducksets._pack_source import MIGRATIONS_DIR, migration_files, read_manifest
from ducksets.errors import first_line
from ducksets.lint.diagnostic import Diagnostic, rule_error
from ducksets.lint.ducklake import keyless_file
from ducksets.lint.manifest import manifest_names
from ducksets.lint.migrations import lint_migration, numbering_problems
from ducksets.lint.rules import lint_file
from ducksets.lint.source import SqlFile, pack_model, read_sql_file
from ducksets.pack import install_macros, pack_dir


def lint_paths(paths: Sequence[Path] | None) -> list[Diagnostic]:
    """``ducksets.lint.lint_pack`` (which see), once sqlglot is imported."""
    targets = [pack_dir()] if paths is None else [Path(p) for p in paths]
    diagnostics: list[Diagnostic] = []
    loose: list[Path] = []
    for target in targets:
        if target.is_dir():
            diagnostics.extend(_lint_directory(target))
        elif target.is_file() and target.suffix == ".sql":
            loose.append(target)
        else:
            diagnostics.append(rule_error(target, "DS006", "not a pack directory or a .sql file"))
    if loose:
        diagnostics.extend(_lint_loose_files(loose))
    return diagnostics


def _lint_directory(directory: Path) -> list[Diagnostic]:
    names, diagnostics = manifest_names(directory)
    files = [read_sql_file(directory / name) for name in names if (directory / name).is_file()]
    paths = migration_files(directory)
    migrations = [read_sql_file(path) for path in paths]
    model = pack_model([*files, *migrations])
    for sql_file in files:
        diagnostics.extend(lint_file(sql_file, model))
    diagnostics.extend(numbering_problems(paths))
    for migration in migrations:
        diagnostics.extend(lint_migration(migration, model))
    # Migrations run after the pack files here: enough to see that each installs and re-runs.
    diagnostics.extend(_install_diagnostics([*files, *migrations], with_installed_pack=False))
    diagnostics.extend(_ducklake_diagnostics([*files, *migrations], with_installed_pack=False))
    return diagnostics


def _ducklake_diagnostics(
    files: Sequence[SqlFile], *, with_installed_pack: bool
) -> list[Diagnostic]:
    """DS014: each file's DuckLake variant derives, is keyless, installs and re-installs.

    No DuckLake here (DuckDB 2.x has no ducklake package): the variant goes into
    a plain scratch DuckDB, which shows that it runs and is idempotent;
    tests/scale installs it into real DuckLakes.
    """
    diagnostics: list[Diagnostic] = []
    variants = []
    for sql_file in files:
        variant, problems = keyless_file(sql_file)
        diagnostics.extend(problems)
        if variant is not None:
            variants.append(variant)
    if diagnostics:
        return diagnostics
    return _install_diagnostics(variants, with_installed_pack=with_installed_pack, rule="DS014")


def _lint_loose_files(paths: Sequence[Path]) -> list[Diagnostic]:
    """Files checked as additions to the installed pack; in ``migrations/``, as migrations."""
    files = [read_sql_file(path) for path in paths]
    installed = [read_sql_file(pack_dir() / name) for name in read_manifest(pack_dir())]
    model = pack_model([*installed, *files])
    diagnostics = []
    for sql_file in files:
        if sql_file.path.parent.name == MIGRATIONS_DIR:
            diagnostics.extend(numbering_problems([sql_file.path], contiguous=False))
            diagnostics.extend(lint_migration(sql_file, model))
        else:
            diagnostics.extend(lint_file(sql_file, model))
    diagnostics.extend(_install_diagnostics(files, with_installed_pack=True))
    diagnostics.extend(_ducklake_diagnostics(files, with_installed_pack=True))
    return diagnostics


def _install_diagnostics(
    files: Sequence[SqlFile], *, with_installed_pack: bool, rule: str = "DS008"
) -> list[Diagnostic]:
    """Install ``files`` twice into a scratch database; report the first failure of each pass."""
    con = duckdb.connect()
    variant = "the DuckLake variant: " if rule == "DS014" else ""
    try:
        if with_installed_pack:
            install_macros(con)
        attempts = (
            f"{variant}installing into an empty in-memory DuckDB",
            f"{variant}installing a second time (every statement must be safe to re-run)",
        )
        for attempt in attempts:
            failure = _install_once(con, files, attempt, rule)
            if failure is not None:
                return [failure]
        return []
    finally:
        con.close()


def _install_once(
    con: duckdb.DuckDBPyConnection, files: Sequence[SqlFile], attempt: str, rule: str
) -> Diagnostic | None:
    for sql_file in files:
        units = [(s.start, s.sql) for s in sql_file.statements or ()] or [(0, sql_file.text)]
        for start, sql in units:
            try:
                con.execute(sql)
            except duckdb.Error as exc:
                message = f"{attempt} failed (later files not tried): {first_line(exc)}"
                return sql_file.diagnostic(rule, message, min(start, len(sql_file.text)))
    return None
