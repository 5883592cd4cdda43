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
from dataclasses import dataclass
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


class _OldSpelling(argparse.Action):
    """An option spelled the old way: it works for one release, with one warning line on stderr.

    ``export --format`` takes both: an output format is today's meaning, a file
    format (``jsonl``, ``parquet``, ``both``) the old one, stored as ``file_format``.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if option_string == "--schema":
            old, new, dest = "--schema", "--pack-schema", "pack_schema"
        elif values in FILE_FORMATS:
            old, new, dest = f"--format {values}", f"--file-format {values}", "file_format"
        else:
            namespace.format = values
            return
        print(f"{parser.prog}: warning: {old} is deprecated; use {new}", file=sys.stderr)
        setattr(namespace, dest, values)


_Option = tuple[tuple[str, ...], dict[str, Any]]


def _option(*flags: str, **kw: Any) -> _Option:
    """One ``add_argument`` call, as data."""
    return flags, kw


def _pack_schema(help_text: str = "schema of the pack") -> tuple[_Option, ...]:
    return (
        _option("--pack-schema", default=PACK_SCHEMA, help=f"{help_text} (default: metadata)"),
        _option(
            "--schema",
            dest="pack_schema",
            action=_OldSpelling,
            default=argparse.SUPPRESS,
            help=argparse.SUPPRESS,  # the old spelling works, but is not offered
        ),
    )


DB = _option("db", type=Path, help="database file")
NAME = _option("name", help="dataset name")
LISTING = _option(
    "--format", choices=FORMATS, help="output format (default: table on a terminal, else json)"
)
TEXT_OR_JSON = _option("--format", choices=("text", "json"), default="text")


@dataclass(frozen=True)
class _Verb:
    """One subcommand: its summary (help and description), an example, what it runs, its options."""

    name: str
    summary: str
    example: str
    run: Callable[[argparse.Namespace], int]
    options: tuple[_Option, ...]
    aliases: tuple[str, ...] = ()


_VERBS = (
    _Verb(
        "install",
        f"Install or upgrade the pack in a database. {WRITABLE}",
        "ducksets install my.db",
        verbs.install,
        (
            _option("db", type=Path, help="database file (created if missing)"),
            *_pack_schema("schema for the pack"),
            _option("--force", action="store_true", help="replace a newer installed pack"),
        ),
    ),
    _Verb(
        "sql",
        "Print the whole pack as one SQL script. Opens no database.",
        "ducksets sql | duckdb my.db",
        verbs.sql,
        (
            *_pack_schema("schema for the pack"),
            _option(
                "--ducklake",
                action="store_true",
                help="the keyless variant, for a DuckLake catalog attached and USEd first",
            ),
        ),
    ),
    _Verb(
        "version",
        f"Print the package, pack and DuckDB versions. {READ_ONLY}",
        "ducksets version my.db",
        verbs.version,
        (_option("db", type=Path, nargs="?", help="also show the pack installed here"),),
    ),
    _Verb(
        "demo",
        "Build a demo database (writes PATH) and tour it.",
        "ducksets demo ducksets-demo.duckdb --replace",
        verbs.demo,
        (
            _option("path", type=Path, nargs="?", default=Path("ducksets-demo.duckdb")),
            _option("--replace", action="store_true", help="rebuild PATH if it exists"),
        ),
    ),
    _Verb(
        "lint",
        "Check the SQL pack with sqlglot, then install it into a scratch in-memory database.",
        "ducksets lint macros/ --format json",
        verbs.lint,
        (
            _option("paths", type=Path, nargs="*", help="pack directories or .sql files"),
            TEXT_OR_JSON,
        ),
    ),
    _Verb(
        "check",
        f"Validate every catalog key and every pack object in a database. {READ_ONLY}",
        "ducksets check my.db --format json",
        verbs.check,
        (DB, *_pack_schema(), TEXT_OR_JSON),
    ),
    _Verb(
        "datasets",
        f"List the datasets: name, table key, kind, (rows), filenames. {READ_ONLY}",
        "ducksets datasets my.db --counts --format csv",
        verbs.datasets,
        (
            DB,
            _option("--counts", action="store_true", help="count each dataset's rows"),
            *_pack_schema(),
            LISTING,
        ),
        aliases=("ls",),
    ),
    _Verb(
        "show",
        f"One dataset: its catalog row, declared and actual columns, and drift. {READ_ONLY}",
        "ducksets show my.db goids",
        verbs.show,
        (DB, NAME, *_pack_schema(), LISTING),
    ),
    _Verb(
        "drift",
        f"Where the catalog and the database disagree; exit 1 when they do. {READ_ONLY}",
        "ducksets drift my.db || echo 'catalog out of date'",
        verbs.drift,
        (DB, *_pack_schema(), LISTING),
    ),
    _Verb(
        "sync",
        "Register every table and view of the given schemas. "
        "Opens DB writable (read-only with --dry-run).",
        "ducksets sync my.db --schema core --schema docs --dry-run",
        verbs.sync,
        (
            DB,
            # Here --schema names what to register (repeatable), not the pack's schema.
            _option(
                "--schema",
                dest="schemas",
                action="append",
                required=True,
                help="schema to register",
            ),
            _option("--dry-run", action="store_true", help="report, change nothing"),
            _option("--pack-schema", default=PACK_SCHEMA, help="schema of the pack"),
            LISTING,
        ),
    ),
    _Verb(
        "rows",
        f"Read one page of a dataset (stable order, tables and views alike). {READ_ONLY}",
        "ducksets rows my.db goids --limit 20 --offset 40 --format csv",
        verbs.rows,
        (
            DB,
            NAME,
            _option("--limit", type=int, default=100, help="rows to read (default 100)"),
            _option("--offset", type=int, default=0, help="rows to skip first (default 0)"),
            _option(
                "--max-rows", type=int, default=10_000, help="largest page allowed (default 10000)"
            ),
            *_pack_schema(),
            LISTING,
        ),
    ),
    _Verb(
        "export",
        "Export datasets to JSONL and/or Parquet files with a datapackage.json "
        f"(Frictionless Data Package). {READ_ONLY}",
        "ducksets export my.db --file-format parquet --out exports --dataset goids",
        verbs.export,
        (
            DB,
            _option(
                "--file-format",
                choices=FILE_FORMATS,
                default=None,
                help="files to write (default: both; parquet with --partition-by or "
                "--max-file-size)",
            ),
            _option("--out", required=True, help="output directory, or s3://bucket/prefix"),
            _option(
                "--dataset",
                dest="datasets",
                action="append",
                help="dataset to export (repeatable; "
                "default: every dataset with a filename for the format)",
            ),
            _option(
                "--no-checksums",
                dest="checksums",
                action="store_false",
                help="skip the SHA-256 of each file (no hash in datapackage.json), for bare "
                "COPY speed",
            ),
            _option(
                "--partition-by",
                dest="partition_by",
                action="append",
                metavar="NAME=COL[,COL]",
                help="export dataset NAME as a directory of Parquet files, one folder per value "
                "of the columns (hive layout; repeatable)",
            ),
            _option(
                "--max-file-size",
                dest="max_file_size",
                metavar="SIZE",
                help="export every Parquet dataset as a directory of files of about SIZE "
                "(e.g. 256MB, 1GiB; checked per row group)",
            ),
            *_pack_schema(),
            _option(
                "--format",
                choices=(*FORMATS, *FILE_FORMATS),
                metavar="{" + ",".join(FORMATS) + "}",
                action=_OldSpelling,
                help="output format (default: table on a terminal: progress and a summary; "
                "else json); jsonl, parquet or both here are the deprecated spelling of "
                "--file-format",
            ),
        ),
    ),
    _Verb(
        "verify",
        "Check an export directory against its datapackage.json: every file's bytes, "
        "SHA-256, rows and columns (and, with --database, the data there now); "
        "exit 1 when anything differs.",
        "ducksets verify exports --database my.db",
        verbs.verify,
        (
            _option("dir", help="export directory (holds datapackage.json), or s3://bucket/prefix"),
            _option(
                "--database",
                type=Path,
                metavar="DB",
                help="also compare rows and columns with this database (opened read-only)",
            ),
            _option(
                "--full",
                action="store_true",
                help="read every row, even of files whose SHA-256 matches",
            ),
            TEXT_OR_JSON,
        ),
    ),
    _Verb(
        "serve",
        f"Serve the datasets to agents over MCP (stdio, or HTTP with --http). {READ_ONLY}",
        "ducksets serve my.db --http 8000",
        verbs.serve,
        (
            DB,
            _option(
                "--http",
                metavar="[HOST:]PORT",
                help="serve streamable HTTP at http://HOST:PORT/mcp (host 127.0.0.1 unless "
                "given) instead of stdio",
            ),
            _option(
                "--max-rows-per-call",
                type=int,
                default=1000,
                metavar="N",
                help="largest page read_dataset_rows returns (default 1000)",
            ),
            _option(
                "--timeout",
                type=float,
                default=10.0,
                metavar="SECONDS",
                help="interrupt a call that runs longer (default 10)",
            ),
            *_pack_schema(),
        ),
    ),
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
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # argparse names an alias's parser after the verb; help and usage errors
    # should show the word the user typed (`ducksets ls --help`).
    typed = next((a for a in argv if not a.startswith("-")), None)
    for verb in _VERBS:
        sub = commands.add_parser(
            verb.name,
            help=verb.summary,
            description=verb.summary,
            epilog=f"example: {verb.example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            aliases=verb.aliases,
        )
        if typed in verb.aliases:
            sub.prog = f"ducksets {typed}"
        for flags, kw in verb.options:
            sub.add_argument(*flags, **kw)
        sub.set_defaults(run=verb.run)
    return parser
