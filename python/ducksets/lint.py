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

from collections.abc import Sequence
from pathlib import Path

import duckdb

from ducksets._introspect import current_database, database_path, find_relation
from ducksets._lint_rules import lint_file
from ducksets._lint_source import (
    RULES,
    Diagnostic,
    SqlFile,
    manifest_names,
    pack_model,
    read_sql_file,
)
from ducksets._names import bare_refused_keywords
from ducksets._pack_source import read_manifest
from ducksets.errors import CatalogMissingError, InvalidTableKeyError, first_line
from ducksets.keys import TableKey, parse_table_key
from ducksets.pack import PACK_SCHEMA, install_macros, pack_dir
from ducksets.sqltext import qualified_name

__all__ = ["RULES", "Diagnostic", "check_catalog_keys", "lint_pack"]


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
    names, diagnostics = manifest_names(directory)
    files = [read_sql_file(directory / name) for name in names if (directory / name).is_file()]
    model = pack_model(files)
    for sql_file in files:
        diagnostics.extend(lint_file(sql_file, model))
    diagnostics.extend(_install_diagnostics(files, with_installed_pack=False))
    return diagnostics


def _lint_loose_files(paths: Sequence[Path]) -> list[Diagnostic]:
    files = [read_sql_file(path) for path in paths]
    installed = [read_sql_file(pack_dir() / name) for name in read_manifest(pack_dir())]
    model = pack_model([*installed, *files])
    diagnostics = [d for sql_file in files for d in lint_file(sql_file, model)]
    diagnostics.extend(_install_diagnostics(files, with_installed_pack=True))
    return diagnostics


def _install_diagnostics(
    files: Sequence[SqlFile], *, with_installed_pack: bool
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
    con: duckdb.DuckDBPyConnection, files: Sequence[SqlFile], attempt: str
) -> Diagnostic | None:
    for sql_file in files:
        units = [(s.start, s.sql) for s in sql_file.statements or ()] or [(0, sql_file.text)]
        for start, sql in units:
            try:
                con.execute(sql)
            except duckdb.Error as exc:
                message = f"{attempt} failed (later files not tried): {first_line(exc)}"
                return sql_file.diagnostic("DS008", message, start)
    return None


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
    catalog_db = database or current_database(con)
    catalog = find_relation(con, TableKey(catalog_db, schema, "datasets"))
    if catalog is None or catalog.kind != "table":
        where = qualified_name(catalog_db, schema)
        msg = (
            f"no catalog table {where}.datasets: the ducksets pack is not installed there; "
            f"run install_macros(con) or `ducksets install {database_path(con)}` first"
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

