"""The ``ducksets`` verbs: each takes the parsed arguments, calls the library and prints.

One function per verb (``install``, ``rows``, ``export``, ...); ``cli.main`` picks it.
Each verb imports the library modules it uses itself: a command runs one verb,
and importing every verb's modules costs more than a small command's work.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import duckdb

from ducksets._connect import check_database_path, connect
from ducksets.output import default_format, printable, render, to_json
from ducksets.pack import install_macros, pack_script, pack_version

if TYPE_CHECKING:
    from ducksets.export import ExportedFile, ExportFormat, ExportOutcome, ExportResult
    from ducksets.lint import Diagnostic

_DB_PLACEHOLDER = re.compile(r"\b(ducksets [a-z]+) DB\b")


def for_terminal(text: str, args: argparse.Namespace) -> str:
    """A library message as the CLI prints it: ``ducksets VERB DB`` names the path, escaped."""
    db = getattr(args, "db", None)
    if db is not None:
        quoted = shlex.quote(str(db))
        text = _DB_PLACEHOLDER.sub(lambda m: f"{m.group(1)} {quoted}", text)
    return printable(text)


def _existing_db(path: Path) -> str:
    """``path`` as text, once it is known to be an existing DuckDB database file."""
    check_database_path(path, read_only=True)
    return str(path)


def _print_listing(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str | None) -> None:
    print(render(columns, rows, fmt or default_format()))


def install(args: argparse.Namespace) -> int:
    with connect(args.db, read_only=False) as con:
        result = install_macros(con, pack_schema=args.pack_schema, force=args.force)
    before = result.version_before or "none"
    after, where = result.version_after, f"{args.db} ({result.pack_schema})"
    print(f"{result.action}: pack {before} -> {after} in {where}")
    if result.created:
        print("created: " + ", ".join(result.created))
    return 0


def sql(args: argparse.Namespace) -> int:
    sys.stdout.write(pack_script(pack_schema=args.pack_schema, ducklake=args.ducklake))
    return 0


def version(args: argparse.Namespace) -> int:
    print(f"ducksets {pack_version()} (pack {pack_version()}), duckdb {duckdb.__version__}")
    if args.db is None:
        return 0
    from ducksets.integrity import pack_problems

    with connect(args.db, read_only=True) as con:
        problems = pack_problems(con)
    if not problems:
        print(f"{args.db}: pack {pack_version()}")
        return 0
    if any(p.no_pack for p in problems):
        print(f"{args.db}: pack not installed")
        return 0
    # Completeness, not just the version row: a pack with a missing or changed object is no pack.
    for problem in problems:
        print(f"{args.db}: {problem.text}")
    return 1


def lint(args: argparse.Namespace) -> int:
    from ducksets.lint import lint_pack  # sqlglot: imported only by the verbs that need it

    return _report(lint_pack(args.paths or None), args.format)


def check(args: argparse.Namespace) -> int:
    from ducksets.integrity import as_diagnostics, pack_problems
    from ducksets.lint import check_catalog_keys
    from ducksets.sqltext import qualified_name

    with connect(args.db, read_only=True) as con:
        problems = pack_problems(con, pack_schema=args.pack_schema)
        absent = any(p.no_pack for p in problems)
        catalog = {qualified_name(args.pack_schema, t) for t in ("datasets", "dataset_columns")}
        diagnostics = as_diagnostics(() if absent else problems)
        # Keys are read only from a catalog of the pack's shape; absent: check_catalog_keys says so.
        if absent or not catalog & {p.obj for p in problems}:
            diagnostics += check_catalog_keys(con, pack_schema=args.pack_schema)
    return _report(diagnostics, args.format)


def _report(diagnostics: Sequence[Diagnostic], output_format: str) -> int:
    if output_format == "json":
        print(to_json([asdict(d) for d in diagnostics]))
    else:
        for d in diagnostics:
            print(printable(f"{d.file}:{d.line}:{d.column}: {d.severity} {d.rule} {d.message}"))
        errors = sum(d.severity == "error" for d in diagnostics)
        print(f"{errors} error(s), {len(diagnostics) - errors} warning(s)")
    return 1 if any(d.severity == "error" for d in diagnostics) else 0


def datasets(args: argparse.Namespace) -> int:
    from ducksets.counts import count_datasets
    from ducksets.registry import load_dataset_registry

    with connect(args.db, read_only=True) as con:
        # The listing shows no descriptions: skip the scan of every relation's comment.
        registry = load_dataset_registry(con, pack_schema=args.pack_schema, descriptions=False)
        datasets = sorted(registry.by_name.values(), key=lambda d: d.name)
        counts = count_datasets(con, datasets) if args.counts else ()
    columns = ["name", "table_key", "kind", "jsonl_filename", "parquet_filename"]
    rows: list[list[Any]] = [
        [d.name, d.table_key, d.kind, d.jsonl_filename, d.parquet_filename] for d in datasets
    ]
    output_format = args.format or default_format()
    if args.counts:
        columns.insert(3, "rows")
        for row, counted in zip(rows, counts, strict=True):
            # null in JSON and CSV; a word a reader cannot take for a number on a table
            marker = counted.status if output_format == "table" else None
            row.insert(3, counted.rows if counted.status == "counted" else marker)
    _print_listing(columns, rows, output_format)
    for counted in counts:
        if counted.status != "counted":
            where = f"{counted.name} ({counted.table_key})"
            print(
                f"ducksets {args.command}: cannot count {printable(where)}: "
                f"{for_terminal(counted.detail, args)}",
                file=sys.stderr,
            )
    return 0


def show(args: argparse.Namespace) -> int:
    from ducksets.describe import describe_dataset

    with connect(args.db, read_only=True) as con:
        described = describe_dataset(con, args.name, pack_schema=args.pack_schema)
    output_format = args.format or default_format()
    if output_format == "json":
        print(to_json(described.to_dict()))
        return 0
    header = ("column", "declared_type", "actual_type", "description")
    columns = [
        (c.column, c.declared_type, c.actual_type, c.description)
        for c in described.column_comparison
    ]
    if output_format == "csv":
        print(render(header, columns, "csv"))
        return 0
    fields = ("name", "table_key", "kind", "description", "jsonl_filename", "parquet_filename")
    for field in fields:
        value = getattr(described, field)
        print(f"{field + ':':<18}{'-' if value is None else printable(str(value))}")
    print()
    print(render(header, columns, "table"))
    print()
    print("drift: " + ("none" if not described.drift else ""))
    for item in described.drift:
        print(f"  {item.drift}: {printable(item.detail)}")
    return 0


def drift(args: argparse.Namespace) -> int:
    from ducksets.drift import catalog_drift

    with connect(args.db, read_only=True) as con:
        report = catalog_drift(con, pack_schema=args.pack_schema)
    rows = [(i.table_key, i.drift, i.detail) for i in report]
    output_format = args.format or default_format()
    if output_format == "table" and report.in_sync:
        print("in sync: every dataset matches the database")
    else:
        _print_listing(("table_key", "drift", "detail"), rows, output_format)
    return 0 if report.in_sync else 1


def sync(args: argparse.Namespace) -> int:
    from ducksets.sync import sync_catalog

    with connect(_existing_db(args.db), read_only=args.dry_run) as con:
        report = sync_catalog(con, args.schemas, dry_run=args.dry_run, pack_schema=args.pack_schema)
    # A relation sync could not register is reported, not fatal: the rest are registered.
    if (args.format or default_format()) == "json":
        print(to_json(report.to_dict()))
    else:
        _print_listing(("table_key", "outcome", "detail"), report.outcomes(), args.format)
    return 0


def rows(args: argparse.Namespace) -> int:
    from ducksets.gateway import StorageConfig, open_gateway
    from ducksets.responses import BackendLimits
    from ducksets.rows import DatasetQueryService

    config = StorageConfig(_existing_db(args.db), read_only=True, pack_schema=args.pack_schema)
    with open_gateway(config) as gateway:
        service = DatasetQueryService(
            gateway, limits=BackendLimits(max_rows_per_call=args.max_rows)
        )
        page = service.read_dataset_rows(
            dataset_name=args.name, limit=args.limit, offset=args.offset
        )
    for message in page.meta.messages:
        if message.severity != "info":
            print(f"ducksets rows: {for_terminal(message.detail, args)}", file=sys.stderr)
    _print_listing(page.columns, [tuple(r.values()) for r in page.rows], args.format)
    return 0


def export(args: argparse.Namespace) -> int:
    from ducksets._export_parts import parse_partition_by, parse_size
    from ducksets.export import export_datasets
    from ducksets.gateway import StorageConfig, open_gateway

    partition_by = parse_partition_by(args.partition_by) if args.partition_by else None
    max_file_bytes = parse_size(args.max_file_size) if args.max_file_size is not None else None
    split = partition_by is not None or max_file_bytes is not None
    file_format: str = args.file_format or ("parquet" if split else "both")
    formats: tuple[ExportFormat, ...] = (
        ("jsonl", "parquet") if file_format == "both" else (cast("ExportFormat", file_format),)
    )
    output_format = args.format or default_format()

    def progress(outcome: ExportOutcome) -> None:
        if output_format == "table":  # a line per file as it lands
            print(_progress_line(outcome, args))

    # One run for every format: file names are checked across formats before
    # anything is written, and a refusal reaches main() as one stderr line, exit 1.
    config = StorageConfig(_existing_db(args.db), read_only=True, pack_schema=args.pack_schema)
    with open_gateway(config) as gateway:
        result = export_datasets(
            gateway,
            args.out,
            formats,
            args.datasets,
            progress=progress,
            checksums=args.checksums,
            partition_by=partition_by,
            max_file_bytes=max_file_bytes,
        )
    written, failed = result.written, result.failed
    if output_format == "table":
        print(f"{len(written)} file(s) written to {args.out}, {len(failed)} failed")
        for url in getattr(result, "removed", ()):  # S3: orphans of earlier runs, deleted
            print(f"  removed orphan {printable(url)}")
    elif output_format == "json":
        print(to_json(_export_report(result)))
    else:
        print(render(_EXPORT_COLUMNS, _export_rows(result), "csv"))
    for failure in failed:
        name, reason = printable(failure.dataset_name), for_terminal(failure.reason, args)
        print(f"ducksets export: {name} ({failure.format}): {reason}", file=sys.stderr)
    return 1 if failed else 0


def _progress_line(outcome: ExportOutcome, args: argparse.Namespace) -> str:
    from ducksets.export import ExportedFile

    if isinstance(outcome, ExportedFile):
        name, file = printable(outcome.dataset_name), printable(outcome.path.name)
        if outcome.parts:
            file += f"/ ({len(outcome.parts)} files)"
        return (
            f"  {name:<32} {outcome.format:<8} {outcome.rows:>12,} rows"
            f"  {outcome.seconds:6.2f}s  {file}"
        )
    name, reason = printable(outcome.dataset_name), for_terminal(outcome.reason, args)
    return f"  {name:<32} {outcome.format:<8} FAILED: {reason}"


def _export_report(result: ExportResult) -> dict[str, Any]:
    report: dict[str, Any] = {
        # The manifest entry, with ``file`` as the path (as printed before).
        "written": [{**f.to_dict(), "file": _location(f)} for f in result.written],
        "failed": [
            {"name": f.dataset_name, "format": f.format, "reason": f.reason} for f in result.failed
        ],
    }
    if hasattr(result, "package_url"):  # an S3 export: its package and the orphans removed
        report["package"] = result.package_url
        report["removed"] = list(getattr(result, "removed", ()))
    return report


def _location(exported: ExportedFile) -> str:
    """Where the file went: its path, or the ``s3://`` URL of an exported object."""
    url = getattr(exported, "url", None)
    return url if isinstance(url, str) and url else str(exported.path)


_EXPORT_COLUMNS = ("name", "format", "status", "file", "rows", "bytes", "sha256", "reason")


def _export_rows(result: ExportResult) -> list[tuple[Any, ...]]:
    """One CSV row per file written or dataset failed (the columns of ``_EXPORT_COLUMNS``)."""
    rows: list[tuple[Any, ...]] = [
        (f.dataset_name, f.format, "written", _location(f), f.rows, f.bytes, f.sha256, None)
        for f in result.written
    ]
    rows += [
        (f.dataset_name, f.format, "failed", None, None, None, None, f.reason)
        for f in result.failed
    ]
    return rows


def verify(args: argparse.Namespace) -> int:
    from ducksets.verify import verify_exports

    if args.database is None:
        report = verify_exports(args.dir, full=args.full)
    else:
        with connect(_existing_db(args.database), read_only=True) as con:
            report = verify_exports(args.dir, database=con, full=args.full)
    if args.format == "json":
        print(to_json(report.to_dict()))
    else:
        for problem in report.problems:
            print(printable(str(problem)))
        print(printable(report.summary()))
    return 0 if report.ok else 1


def demo(args: argparse.Namespace) -> int:
    from ducksets.demo import demo_tour  # its tables and row bindings are built at import

    print(demo_tour(args.path, replace=args.replace))
    return 0


def serve(args: argparse.Namespace) -> int:
    from ducksets.serve import serve as serve_database  # the mcp package: only for this verb

    # Ctrl-C is how a server is stopped by hand: no traceback for it.
    with contextlib.suppress(KeyboardInterrupt):
        serve_database(
            args.db,
            http=args.http,
            max_rows_per_call=args.max_rows_per_call,
            timeout=args.timeout,
            pack_schema=args.pack_schema,
        )
    return 0
