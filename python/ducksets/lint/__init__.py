"""Checks that nothing of the pack reaches a database unchecked.

``lint_pack`` reads the pack's SQL with sqlglot (the DuckDB dialect of
``ducksets._dialect``), applies the rules below file by file, then installs the
pack twice into a scratch in-memory DuckDB and reports what failed.
``check_catalog_keys`` validates the table keys stored in an installed catalog.

Modules: ``diagnostic`` (``Diagnostic``, ``RULES``), ``source`` (files parsed
with sqlglot, what the pack defines), ``manifest``, ``rules`` and ``migrations``
(the checks), ``linter`` (``lint_pack``'s work and the install check) and
``catalog_keys``.

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

DS010 file-number
    No two files in ``MANIFEST`` share a number (``36_a.sql``, ``36_b.sql``):
    the numbers show the install order at a glance.

Migration files (``migrations/NNNN_slug.sql`` beside ``MANIFEST``) run at every
install, after the pack's tables, so each statement must be a no-op once applied.
DS001 (parse), DS003, DS007 and DS008 check them too, and:

DS011 migration-name
    Each is named ``NNNN_slug.sql`` (four digits, a lower-case slug), numbered
    0001, 0002, ... without a gap or a repeat.
DS012 migration-header
    Each starts with ``-- migration NNNN: <one-line summary>``, ``NNNN`` its
    file's number.
DS013 migration-statement
    Only ``CREATE TABLE IF NOT EXISTS``, ``ALTER TABLE ... ADD COLUMN IF NOT
    EXISTS`` (refused in pack files by DS002), ``INSERT ... ON CONFLICT DO
    NOTHING``, ``UPDATE ... WHERE`` (the guard that makes it a no-op once
    applied) and ``COMMENT ON``.

Every pack file and migration also has a DuckLake variant, which the
installer derives for a DuckLake catalog (``ducksets._pack_keyless``):

DS014 ducklake-variant
    The variant derives (no ``CHECK``, ``COLLATE``, foreign key or
    ``RETURNING``; an ``ON CONFLICT`` only in the install record's
    ``INSERT ... ON CONFLICT (key) DO UPDATE SET col = excluded.col ... WHERE``
    form), has no key, ``ON CONFLICT`` or ``RETURNING`` left, and installs into
    a scratch DuckDB twice.

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

from ducksets.lint.catalog_keys import check_catalog_keys
from ducksets.lint.diagnostic import RULES, Diagnostic

__all__ = ["RULES", "Diagnostic", "check_catalog_keys", "lint_pack"]


def lint_pack(paths: Sequence[Path] | None = None) -> list[Diagnostic]:
    """Lint the SQL pack.

    Parameters
    ----------
    paths
        Pack directories (holding a ``MANIFEST``, and a ``migrations/`` folder
        when the pack has migrations) and single ``.sql`` files; default: the
        pack this package installs. Single files are checked as additions to
        that pack (as migrations when they are in a ``migrations/`` folder),
        and the manifest rule is skipped for them.

    Returns
    -------
    list[Diagnostic]
        Every problem found, in file order; empty when the pack is clean.
    """
    # The rules read SQL with sqlglot, which takes longer to import than most
    # CLI verbs take to run: import it when linting, not with ``ducksets.lint``.
    from ducksets.lint.linter import lint_paths

    return lint_paths(paths)
