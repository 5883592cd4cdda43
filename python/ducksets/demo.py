"""``ducksets demo``: a small code-intelligence database built through the public API.

The demo declares its tables (``TableSchema``) and views, opens a writable
gateway (which installs the pack, creates the tables and registers every
dataset), and fills the tables through typed row bindings (``insert_rows``).
Its shape follows the codeintel catalog: ``core``, ``graph`` and ``analytics``
tables and ``docs.v_*`` views.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shlex
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TypedDict

import duckdb

from ducksets._connect import check_database_path, connect
from ducksets.drift import catalog_drift
from ducksets.errors import DatabaseLockedError, DemoBuildError, NotADatabaseError, PathExistsError
from ducksets.export import MANIFEST_NAME, export_datasets
from ducksets.gateway import Gateway, StorageConfig, open_gateway
from ducksets.output import render
from ducksets.pack import pack_version
from ducksets.responses import BackendLimits
from ducksets.rowbinding import RowBinding, insert_rows
from ducksets.rows import DatasetQueryService
from ducksets.schema import Column, TableSchema

MODULES = TableSchema(
    (
        Column("module", "VARCHAR", nullable=False),
        Column("path", "VARCHAR", nullable=False),
        Column("language", "VARCHAR"),
    ),
    ("module", "path"),
)
GOIDS = TableSchema(
    (
        Column("goid_h128", "DECIMAL(38,0)", nullable=False),
        Column("urn", "VARCHAR", nullable=False),
        Column("rel_path", "VARCHAR", nullable=False),
        Column("kind", "VARCHAR", nullable=False),
        Column("qualname", "VARCHAR", nullable=False),
        Column("start_line", "INTEGER"),
        Column("end_line", "INTEGER"),
        Column("created_at", "TIMESTAMP", nullable=False),
    ),
    ("goid_h128",),
)
CALL_GRAPH_EDGES = TableSchema(
    (
        Column("caller_goid_h128", "DECIMAL(38,0)", nullable=False),
        Column("callee_goid_h128", "DECIMAL(38,0)"),
        Column("callsite_line", "INTEGER", nullable=False),
        Column("kind", "VARCHAR", nullable=False),
        Column("confidence", "DOUBLE"),
    )
)
FUNCTION_METRICS = TableSchema(
    (
        Column("function_goid_h128", "DECIMAL(38,0)"),
        Column("qualname", "VARCHAR"),
        Column("loc", "INTEGER"),
        Column("cyclomatic_complexity", "INTEGER"),
        Column("has_docstring", "BOOLEAN"),
    )
)


class ModuleRow(TypedDict):
    module: str
    path: str
    language: str | None


class GoidRow(TypedDict):
    goid_h128: Decimal
    urn: str
    rel_path: str
    kind: str
    qualname: str
    start_line: int | None
    end_line: int | None
    created_at: dt.datetime


class CallGraphEdgeRow(TypedDict):
    caller_goid_h128: Decimal
    callee_goid_h128: Decimal | None
    callsite_line: int
    kind: str
    confidence: float | None


class FunctionMetricsRow(TypedDict):
    function_goid_h128: Decimal | None
    qualname: str | None
    loc: int | None
    cyclomatic_complexity: int | None
    has_docstring: bool | None


DEMO_CONFIG = StorageConfig(
    tables={
        "core.modules": MODULES,
        "core.goids": GOIDS,
        "graph.call_graph_edges": CALL_GRAPH_EDGES,
        "analytics.function_metrics": FUNCTION_METRICS,
    },
    views={
        "docs.v_function_summary": """
            SELECT g.goid_h128, g.qualname, g.rel_path, m.loc, m.cyclomatic_complexity,
                   count(e.callee_goid_h128) AS outgoing_calls
            FROM core.goids AS g
            JOIN analytics.function_metrics AS m ON m.function_goid_h128 = g.goid_h128
            LEFT JOIN graph.call_graph_edges AS e ON e.caller_goid_h128 = g.goid_h128
            GROUP BY ALL""",
        "docs.v_module_summary": """
            SELECT mo.module, mo.path, count(g.goid_h128) AS symbols,
                   count(*) FILTER (WHERE g.kind = 'class') AS classes
            FROM core.modules AS mo
            LEFT JOIN core.goids AS g ON g.rel_path = mo.path
            GROUP BY ALL""",
    },
    jsonl={
        "core.modules": "modules.jsonl",
        "core.goids": "goids.jsonl",
        "graph.call_graph_edges": "call_graph_edges.jsonl",
        "analytics.function_metrics": "function_metrics.jsonl",
    },
    parquet={
        "core.goids": "goids.parquet",
        "graph.call_graph_edges": "call_graph_edges.parquet",
        "docs.v_function_summary": "function_summary.parquet",
    },
    row_bindings={
        "core.modules": RowBinding.for_schema(MODULES, ModuleRow),
        "core.goids": RowBinding.for_schema(GOIDS, GoidRow),
        "graph.call_graph_edges": RowBinding.for_schema(CALL_GRAPH_EDGES, CallGraphEdgeRow),
        "analytics.function_metrics": RowBinding.for_schema(FUNCTION_METRICS, FunctionMetricsRow),
    },
    # Storage v1.0.0 so that every DuckDB from 1.0 on, and today's duckdb CLI, can open it.
    duckdb_config={"storage_compatibility_version": "v1.0.0"},
)


def build_demo(path: Path, *, replace: bool = False) -> int:
    """Write the demo database to ``path``; returns the number of datasets registered.

    The database is built whole in a temporary file beside ``path``, checkpointed
    and closed (so no ``.wal`` is left), then renamed into place: a reader, or a
    concurrent run, sees the old file or a complete new one, never a half-built one.

    Parameters
    ----------
    path
        The database file to create.
    replace
        Replace ``path`` if it is a DuckDB database; otherwise an existing path is an error.

    Raises
    ------
    NotADatabaseError
        ``path`` exists and is not a DuckDB database file (a directory, a device,
        another kind of file), or its directory does not exist.
    PathExistsError
        ``path`` exists and ``replace`` is false (or another run created it meanwhile).
    DatabaseLockedError
        ``replace`` is true and another process has ``path`` open for writing.
    """
    if not path.parent.is_dir():
        msg = f"cannot create database {path}: no directory {path.parent}"
        raise NotADatabaseError(msg, path=str(path))
    if path.exists():
        if not replace:
            raise _exists(path)
        # --replace replaces a DuckDB database and nothing else: not a device
        # (/dev/null, as root), a directory, or someone's Parquet file.
        check_database_path(path, read_only=True)
        _refuse_if_open_for_writing(path)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".ducksets-demo-") as scratch:
        built = Path(scratch) / path.name
        with open_gateway(dataclasses.replace(DEMO_CONFIG, path=built)) as gateway:
            fill_demo(gateway)
            registered = len(gateway.datasets.mapping)
            gateway.con.execute("CHECKPOINT")
        wal = built.with_name(built.name + ".wal")
        if wal.exists():
            msg = f"building the demo left {wal} after a checkpoint; nothing was written to {path}"
            raise DemoBuildError(msg)
        if replace:
            # A WAL left by an earlier writer would be replayed against the new file.
            path.with_name(path.name + ".wal").unlink(missing_ok=True)
            built.replace(path)
        else:
            try:
                os.link(built, path)  # fails, unlike a rename, if another run got there first
            except FileExistsError:
                raise _exists(path) from None
    return registered


def _refuse_if_open_for_writing(path: Path) -> None:
    """A writer elsewhere would go on writing the old file, and its WAL would land beside ours."""
    try:
        connect(path, read_only=True).close()
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
        if "lock" not in str(exc).lower() and "configuration" not in str(exc).lower():
            raise
        msg = f"{path} is in use by another process; close it there, or give another PATH"
        raise DatabaseLockedError(msg, path=str(path)) from exc


def _exists(path: Path) -> PathExistsError:
    msg = f"{path} exists; pass --replace to rebuild it, or give another PATH"
    return PathExistsError(msg, path=str(path))


def fill_demo(gateway: Gateway) -> None:
    """Insert the demo rows, through each table's typed row binding."""
    modules = _modules()
    goids = _goids(modules)
    for name, rows in (
        ("modules", modules),
        ("goids", goids),
        ("call_graph_edges", _edges(goids)),
        ("function_metrics", _metrics(goids)),
    ):
        insert_rows(gateway.con, gateway.dataset(name), rows)


def _modules() -> list[ModuleRow]:
    return [
        {
            "module": f"demo.pkg{i // 5}.mod{i % 5}",
            "path": f"src/demo/pkg{i // 5}/mod{i % 5}.py",
            "language": "python",
        }
        for i in range(20)
    ]


def _goids(modules: list[ModuleRow]) -> list[GoidRow]:
    start = dt.datetime(2026, 1, 1)
    return [
        {
            "goid_h128": Decimal(1_000_000 + i),
            "urn": f"goid:demo/{i}",
            "rel_path": modules[i % 20]["path"],
            "kind": "class" if i % 7 == 0 else "function",
            "qualname": f"{modules[i % 20]['module']}.f{i}",
            "start_line": 10 * (i // 20) + 1,
            "end_line": 10 * (i // 20) + 1 + i % 9,
            "created_at": start + dt.timedelta(minutes=i),
        }
        for i in range(300)
    ]


def _edges(goids: list[GoidRow]) -> list[CallGraphEdgeRow]:
    return [
        {
            "caller_goid_h128": goids[i % 300]["goid_h128"],
            "callee_goid_h128": None if i % 11 == 0 else goids[(i * 7 + 3) % 300]["goid_h128"],
            "callsite_line": 1 + i % 200,
            "kind": "unresolved" if i % 11 == 0 else "direct",
            "confidence": round(0.5 + (i % 50) / 100, 2),
        }
        for i in range(600)
    ]


def _metrics(goids: list[GoidRow]) -> list[FunctionMetricsRow]:
    return [
        {
            "function_goid_h128": g["goid_h128"],
            "qualname": g["qualname"],
            "loc": (g["end_line"] or 0) - (g["start_line"] or 0) + 1,
            "cyclomatic_complexity": 1 + int(g["goid_h128"]) % 13,
            "has_docstring": int(g["goid_h128"]) % 3 != 0,
        }
        for g in goids
        if g["kind"] == "function"
    ]


def demo_tour(path: Path, *, replace: bool = False) -> str:
    """Build the demo database at ``path`` and return the tour ``ducksets demo`` prints.

    The tour shows the catalog, a page of a view, the drift report and a
    Parquet export (written beside ``path`` in ``<stem>-exports/``), then
    suggests commands to try with the duckdb CLI and with ducksets.

    Raises
    ------
    NotADatabaseError, PathExistsError, DatabaseLockedError
        As ``build_demo``.
    """
    registered = build_demo(path, replace=replace)
    lines = [f"Built {path}: demo data, pack {pack_version()}, {registered} datasets registered.\n"]
    exports = path.with_name(path.stem + "-exports")
    with open_gateway(StorageConfig(path, read_only=True)) as gateway:
        lines += _tour_of(gateway, exports)
    db = shlex.quote(str(path))
    lines.append("Try next, with the duckdb CLI (no Python needed):")
    lines += [f"  duckdb {db} -c {_shell_quote(sql_text)}" for sql_text in _SUGGESTED_SQL]
    lines.append("or with ducksets:")
    for verb in ("datasets", "show", "rows", "drift", "check"):
        lines.append(f"  ducksets {verb} {db}" + (" goids" if verb in {"show", "rows"} else ""))
    lines.append(f"  ducksets export {db} --file-format jsonl --out {shlex.quote(str(exports))}")
    return "\n".join(lines)


_SUGGESTED_SQL = (
    "FROM metadata.datasets",
    "FROM metadata.dataset_rows('core.goids', row_limit := 5, row_offset := 10)",
    "SELECT metadata.dataset_exists('goids')",
    "SELECT metadata.dataset_export_sql('goids', fmt := 'jsonl', output_dir := '/tmp')",
    "FROM metadata.catalog_drift()",
)


def _tour_of(gateway: Gateway, exports: Path) -> list[str]:
    """The catalog, a page of a view, the drift report and a Parquet export, as text."""
    catalog = gateway.con.sql("FROM metadata.datasets ORDER BY table_key")
    lines = ["The catalog (FROM metadata.datasets):"]
    lines.append(_indent(render(catalog.columns, catalog.fetchall(), "table")) + "\n")
    service = DatasetQueryService(gateway, limits=BackendLimits(max_rows_per_call=5))
    page = service.read_dataset_rows(dataset_name="v_function_summary", limit=5)
    lines.append("A page of a view (DatasetQueryService, through metadata.dataset_rows):")
    lines.append(_indent(render(page.columns, [tuple(r.values()) for r in page.rows], "table")))
    lines.append(f"  ({len(page.rows)} rows; more after this page: {page.meta.truncated})\n")
    drift = catalog_drift(gateway.con)
    lines.append("Drift between catalog and database (FROM metadata.catalog_drift()):")
    lines.append(f"  {'in sync' if drift.in_sync else drift}\n")
    result = export_datasets(gateway, exports, "parquet")
    lines.append(f"Exported every dataset with a Parquet filename to {exports}/:")
    for exported in result.written:
        digest = (exported.sha256 or "-")[:12]
        lines.append(f"  {exported.path.name:<28} {exported.rows:>5} rows  sha256 {digest}")
    lines.append(f"  and {MANIFEST_NAME}\n")
    return lines


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _shell_quote(text: str) -> str:
    """Double quotes where the shell would leave the text alone, which reads best for SQL."""
    if not any(ch in text for ch in '"$`\\!'):
        return f'"{text}"'
    return shlex.quote(text)
