"""The ``ducksets`` command line: parse arguments, call the public function, print.

Expected errors (``DucksetsError``, DuckDB errors) become one line on stderr
and exit code 1; bad usage exits 2 (argparse's convention).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import NoReturn

import duckdb

from ducksets.demo import build_demo
from ducksets.errors import DucksetsError
from ducksets.lint import Diagnostic, check_catalog_keys, lint_pack
from ducksets.pack import PACK_SCHEMA, install_macros, installed_version, pack_script, pack_version
from ducksets.sqltext import quote_literal

EPILOG_EXAMPLES = {
    "install": "example: ducksets install my.db",
    "sql": 'example: ducksets sql | duckdb my.db   (or: duckdb my.db -c ".read pack.sql")',
    "version": "example: ducksets version my.db",
    "demo": "example: ducksets demo ducksets-demo.duckdb --replace",
    "lint": "example: ducksets lint macros/ --format json",
    "check": "example: ducksets check my.db",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except (DucksetsError, duckdb.Error, OSError) as exc:
        print(f"ducksets {args.command}: {_first_line(exc)}", file=sys.stderr)
        return 1
    return code


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ducksets",
        description="A DuckDB dataset catalog: install the SQL pack, inspect and use it.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG_EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    install = command("install", "Install or upgrade the pack in a database (opens it writable).")
    install.add_argument("db", type=Path, help="database file (created if missing)")
    install.add_argument("--schema", default=PACK_SCHEMA, help="schema for the pack")
    install.add_argument("--force", action="store_true", help="replace a newer installed pack")
    install.set_defaults(run=_install)

    sql = command("sql", "Print the whole pack as one SQL script (opens no database).")
    sql.add_argument("--schema", default=PACK_SCHEMA, help="schema for the pack")
    sql.set_defaults(run=_sql)

    version = command("version", "Print versions: package, pack, DuckDB (opens DB read-only).")
    version.add_argument("db", type=Path, nargs="?", help="also show the pack installed here")
    version.set_defaults(run=_version)

    demo = command("demo", "Build a demo database with the pack and a catalog, and tour it.")
    demo.add_argument("path", type=Path, nargs="?", default=Path("ducksets-demo.duckdb"))
    demo.add_argument("--replace", action="store_true", help="rebuild PATH if it exists")
    demo.set_defaults(run=_demo)

    lint = command("lint", "Check the SQL pack with sqlglot, then install it in a scratch DB.")
    lint.add_argument("paths", type=Path, nargs="*", help="pack directories or .sql files")
    lint.add_argument("--format", choices=("text", "json"), default="text")
    lint.set_defaults(run=_lint)

    check = command("check", "Validate every table key in a database's catalog (read-only).")
    check.add_argument("db", type=Path, help="database file")
    check.add_argument("--schema", default=PACK_SCHEMA, help="schema of the pack")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(run=_check)
    return parser


def _existing_db(path: Path) -> str:
    if not path.is_file():
        msg = f"no database file {path}; check the path (ducksets demo makes one to try)"
        raise DucksetsError(msg)
    return str(path)


def _install(args: argparse.Namespace) -> int:
    with duckdb.connect(str(args.db)) as con:
        result = install_macros(con, schema=args.schema, force=args.force)
    before = result.version_before or "none"
    print(
        f"{result.action}: pack {before} -> {result.version_after} in {args.db} ({result.schema})"
    )
    if result.created:
        print("created: " + ", ".join(result.created))
    return 0


def _sql(args: argparse.Namespace) -> int:
    sys.stdout.write(pack_script(schema=args.schema))
    return 0


def _version(args: argparse.Namespace) -> int:
    print(f"ducksets {pack_version()} (pack {pack_version()}), duckdb {duckdb.__version__}")
    if args.db is not None:
        with duckdb.connect(_existing_db(args.db), read_only=True) as con:
            installed = installed_version(con)
        print(f"{args.db}: pack {installed or 'not installed'}")
    return 0


def _lint(args: argparse.Namespace) -> int:
    return _report(lint_pack(args.paths or None), args.format)


def _check(args: argparse.Namespace) -> int:
    with duckdb.connect(_existing_db(args.db), read_only=True) as con:
        diagnostics = check_catalog_keys(con, schema=args.schema)
    return _report(diagnostics, args.format)


def _report(diagnostics: Sequence[Diagnostic], output_format: str) -> int:
    if output_format == "json":
        print(json.dumps([asdict(d) for d in diagnostics], indent=2))
    else:
        for d in diagnostics:
            print(f"{d.file}:{d.line}:{d.column}: {d.severity} {d.rule} {d.message}")
        errors = sum(d.severity == "error" for d in diagnostics)
        print(f"{errors} error(s), {len(diagnostics) - errors} warning(s)")
    return 1 if any(d.severity == "error" for d in diagnostics) else 0


def _demo(args: argparse.Namespace) -> int:
    path: Path = args.path
    registered = build_demo(path, replace=args.replace)
    print(f"Built {path}: demo data, pack {pack_version()}, {registered} datasets registered.\n")
    with duckdb.connect(str(path), read_only=True) as con:
        print("The catalog (FROM metadata.datasets):")
        _print_query(con, "FROM metadata.datasets ORDER BY table_key")
        print("\nOne page of a view (FROM metadata.dataset_rows('docs.v_function_summary', ...)):")
        _print_query(
            con,
            "FROM metadata.dataset_rows("
            f"{quote_literal('docs.v_function_summary')}, row_limit := 5, row_offset := 0)",
        )
        print("\nDrift between catalog and database (FROM metadata.catalog_drift()):")
        _print_query(con, "FROM metadata.catalog_drift()")
    db = shlex.quote(str(path))
    print("\nTry next, with the duckdb CLI (no Python needed):")
    for sql_text in (
        "FROM metadata.datasets",
        "FROM metadata.dataset_rows('core.goids', row_limit := 5, row_offset := 10)",
        "SELECT metadata.dataset_exists('goids')",
        "SELECT metadata.dataset_export_sql('goids', fmt := 'jsonl', output_dir := '/tmp')",
        "FROM metadata.catalog_drift()",
    ):
        print(f"  duckdb {db} -c {_shell_quote(sql_text)}")
    print("or with ducksets:")
    print(f"  ducksets check {db}")
    print(f"  ducksets version {db}")
    return 0


def _shell_quote(text: str) -> str:
    """Double quotes where the shell would leave the text alone, which reads best for SQL."""
    if not any(ch in text for ch in '"$`\\!'):
        return f'"{text}"'
    return shlex.quote(text)


def _print_query(con: duckdb.DuckDBPyConnection, sql_text: str) -> None:
    relation = con.sql(sql_text)
    columns = [str(c) for c in relation.columns]
    rows = [["NULL" if v is None else str(v) for v in row] for row in relation.fetchall()]
    if not rows:
        print("  (no rows)")
        return
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    for line in (columns, ["-" * w for w in widths], *rows):
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
