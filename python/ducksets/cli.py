"""The ``ducksets`` command line: parse arguments, call the public function, print.

Expected errors (``DucksetsError``, DuckDB errors, missing files) become one
line on stderr and exit code 1; bad usage exits 2 (argparse's convention).
A message's ``ducksets VERB DB`` names the database path given. When the
reader of stdout goes away (``| head``), the command stops quietly with
status 141, as a shell reports for ``cat`` (128 + SIGPIPE).
Listings print a table on a terminal and JSON when piped (``--format`` picks).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import duckdb

from ducksets import _cli_verbs as verbs
from ducksets.errors import DucksetsError, first_line
from ducksets.output import FORMATS
from ducksets.pack import PACK_SCHEMA, pack_version

READ_ONLY = "Opens DB read-only."
WRITABLE = "Opens DB writable."
FILE_FORMATS = ("jsonl", "parquet", "both")

SIGPIPE_STATUS = 141
"""Exit status when stdout's reader went away: 128 + SIGPIPE, as a shell shows for ``cat``."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = _parser(arguments).parse_args(arguments)
    try:
        code: int = args.run(args)
        if sys.stdout is not None:  # None when started with stdout closed (`>&-`)
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
    except BrokenPipeError:
        # The reader went away (`ducksets rows db x | head`): stop quietly, as cat
        # does; stdout goes to /dev/null so the flush at exit has nothing to report.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_STATUS
    except (DucksetsError, duckdb.Error, OSError) as exc:
        print(f"ducksets {args.command}: {_message(exc, args)}", file=sys.stderr)
        return 1
    return code


def _message(exc: BaseException, args: argparse.Namespace) -> str:
    """The error's first line, printable, with ``ducksets VERB DB`` naming the path given."""
    return verbs.for_terminal(first_line(exc), args)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _DeprecatedSpelling(argparse.Action):
    """An old option spelling: it works for one release, with one warning line on stderr."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, new: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, **kw)
        self.new = new

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        _warn(parser, f"{option_string} is deprecated; use {self.new}")
        setattr(namespace, self.dest, values)


class _ExportFormat(argparse.Action):
    """``export --format``: the output format; a file format there is the old spelling."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if values in FILE_FORMATS:
            _warn(parser, f"--format {values} is deprecated; use --file-format {values}")
            namespace.file_format = values
        else:
            namespace.format = values


def _warn(parser: argparse.ArgumentParser, text: str) -> None:
    print(f"{parser.prog}: warning: {text}", file=sys.stderr)


class _Verbs:
    """Adds one subcommand per verb, each with its summary, an example and the function it runs."""

    def __init__(self, parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
        self._commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
        # argparse names an alias's parser after the verb; help and usage errors
        # should show the word the user typed (`ducksets ls --help`).
        self._typed = next((a for a in argv if not a.startswith("-")), None)

    def add(
        self,
        name: str,
        summary: str,
        example: str,
        run: Callable[[argparse.Namespace], int],
        **kw: Any,
    ) -> argparse.ArgumentParser:
        sub = self._commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=f"example: {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            **kw,
        )
        if self._typed in kw.get("aliases", ()):
            sub.prog = f"ducksets {self._typed}"
        sub.set_defaults(run=run)
        return sub


def _listing(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--format",
        choices=FORMATS,
        help="output format (default: table on a terminal, else json)",
    )


def _pack_schema(sub: argparse.ArgumentParser, help_text: str = "schema of the pack") -> None:
    sub.add_argument("--pack-schema", default=PACK_SCHEMA, help=f"{help_text} (default: metadata)")
    sub.add_argument(
        "--schema",
        dest="pack_schema",
        action=_DeprecatedSpelling,
        new="--pack-schema",
        default=argparse.SUPPRESS,
        help="deprecated spelling of --pack-schema",
    )


def _parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ducksets",
        description="A DuckDB dataset catalog: install the SQL pack, inspect and use it.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"ducksets {pack_version()} (pack {pack_version()}), duckdb {duckdb.__version__}",
    )
    verbs_ = _Verbs(parser, argv)
    for add_group in (_pack_verbs, _catalog_verbs, _sync_verb, _data_verbs):
        add_group(verbs_)
    return parser


def _pack_verbs(verbs_: _Verbs) -> None:
    """The verbs about the pack itself: install, sql, version, demo, lint, check."""
    install = verbs_.add(
        "install",
        f"Install or upgrade the pack in a database. {WRITABLE}",
        "ducksets install my.db",
        verbs.install,
    )
    install.add_argument("db", type=Path, help="database file (created if missing)")
    _pack_schema(install, "schema for the pack")
    install.add_argument("--force", action="store_true", help="replace a newer installed pack")

    sql = verbs_.add(
        "sql",
        "Print the whole pack as one SQL script. Opens no database.",
        "ducksets sql | duckdb my.db",
        verbs.sql,
    )
    _pack_schema(sql, "schema for the pack")

    version = verbs_.add(
        "version",
        f"Print the package, pack and DuckDB versions. {READ_ONLY}",
        "ducksets version my.db",
        verbs.version,
    )
    version.add_argument("db", type=Path, nargs="?", help="also show the pack installed here")

    demo = verbs_.add(
        "demo",
        "Build a demo database (writes PATH) and tour it.",
        "ducksets demo ducksets-demo.duckdb --replace",
        verbs.demo,
    )
    demo.add_argument("path", type=Path, nargs="?", default=Path("ducksets-demo.duckdb"))
    demo.add_argument("--replace", action="store_true", help="rebuild PATH if it exists")

    lint = verbs_.add(
        "lint",
        "Check the SQL pack with sqlglot, then install it into a scratch in-memory database.",
        "ducksets lint macros/ --format json",
        verbs.lint,
    )
    lint.add_argument("paths", type=Path, nargs="*", help="pack directories or .sql files")
    lint.add_argument("--format", choices=("text", "json"), default="text")

    check = verbs_.add(
        "check",
        f"Validate every catalog key and every pack object in a database. {READ_ONLY}",
        "ducksets check my.db --format json",
        verbs.check,
    )
    check.add_argument("db", type=Path, help="database file")
    _pack_schema(check)
    check.add_argument("--format", choices=("text", "json"), default="text")


def _catalog_verbs(verbs_: _Verbs) -> None:
    """The verbs that read the catalog: datasets (ls), show, drift."""
    datasets = verbs_.add(
        "datasets",
        f"List the datasets: name, table key, kind, (rows), filenames. {READ_ONLY}",
        "ducksets datasets my.db --counts --format csv",
        verbs.datasets,
        aliases=["ls"],
    )
    datasets.add_argument("db", type=Path, help="database file")
    datasets.add_argument("--counts", action="store_true", help="count each dataset's rows")
    _pack_schema(datasets)
    _listing(datasets)

    show = verbs_.add(
        "show",
        f"One dataset: its catalog row, declared and actual columns, and drift. {READ_ONLY}",
        "ducksets show my.db goids",
        verbs.show,
    )
    show.add_argument("db", type=Path, help="database file")
    show.add_argument("name", help="dataset name")
    _pack_schema(show)
    _listing(show)

    drift = verbs_.add(
        "drift",
        f"Where the catalog and the database disagree; exit 1 when they do. {READ_ONLY}",
        "ducksets drift my.db || echo 'catalog out of date'",
        verbs.drift,
    )
    drift.add_argument("db", type=Path, help="database file")
    _pack_schema(drift)
    _listing(drift)


def _sync_verb(verbs_: _Verbs) -> None:
    """sync, where ``--schema`` (repeatable) names the schemas to register."""
    sync = verbs_.add(
        "sync",
        "Register every table and view of the given schemas. "
        "Opens DB writable (read-only with --dry-run).",
        "ducksets sync my.db --schema core --schema docs --dry-run",
        verbs.sync,
    )
    sync.add_argument("db", type=Path, help="database file")
    sync.add_argument(
        "--schema", dest="schemas", action="append", required=True, help="schema to register"
    )
    sync.add_argument("--dry-run", action="store_true", help="report, change nothing")
    sync.add_argument("--pack-schema", default=PACK_SCHEMA, help="schema of the pack")
    _listing(sync)


def _data_verbs(verbs_: _Verbs) -> None:
    """The verbs that read datasets' rows: rows, export."""
    rows = verbs_.add(
        "rows",
        f"Read one page of a dataset (stable order, tables and views alike). {READ_ONLY}",
        "ducksets rows my.db goids --limit 20 --offset 40 --format csv",
        verbs.rows,
    )
    rows.add_argument("db", type=Path, help="database file")
    rows.add_argument("name", help="dataset name")
    rows.add_argument("--limit", type=int, default=100, help="rows to read (default 100)")
    rows.add_argument("--offset", type=int, default=0, help="rows to skip first (default 0)")
    rows.add_argument(
        "--max-rows", type=int, default=10_000, help="largest page allowed (default 10000)"
    )
    _pack_schema(rows)
    _listing(rows)

    export = verbs_.add(
        "export",
        f"Export datasets to JSONL and/or Parquet files with a manifest.json. {READ_ONLY}",
        "ducksets export my.db --file-format parquet --out exports --dataset goids",
        verbs.export,
    )
    export.add_argument("db", type=Path, help="database file")
    export.add_argument(
        "--file-format",
        choices=FILE_FORMATS,
        default="both",
        help="files to write (default: both)",
    )
    export.add_argument("--out", required=True, help="output directory")
    export.add_argument(
        "--dataset",
        dest="datasets",
        action="append",
        help="dataset to export (repeatable; "
        "default: every dataset with a filename for the format)",
    )
    export.add_argument(
        "--no-checksums",
        dest="checksums",
        action="store_false",
        help="skip the SHA-256 of each file (manifest sha256: null), for bare COPY speed",
    )
    _pack_schema(export)
    export.add_argument(
        "--format",
        choices=(*FORMATS, *FILE_FORMATS),
        metavar="{" + ",".join(FORMATS) + "}",
        action=_ExportFormat,
        help="output format (default: table on a terminal: progress and a summary; "
        "else json); jsonl, parquet or both here are the deprecated spelling of --file-format",
    )
