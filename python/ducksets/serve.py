"""``ducksets serve``: the catalog as a read-only MCP server for agents and services.

Four tools, and nothing else: ``list_datasets()``, ``describe_dataset(name)``,
``read_dataset_rows(name, limit=100, offset=0, cursor=None)`` and
``catalog_drift()``. No tool takes SQL and none writes: the database opens
read-only and its file's bytes stay as they were. Every page is bounded by
``BackendLimits`` and every call by a time limit; a failing call is a tool
error (``isError``) with one line saying what to do, and the server goes on.

Needs the ``serve`` extra (the ``mcp`` package): ``pip install 'ducksets[serve]'``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ducksets._connect import check_database_path
from ducksets._serve_tools import DEFAULT_TIMEOUT, ServedCatalog, require_timeout
from ducksets.errors import InvalidArgumentError, MissingExtraError
from ducksets.gateway import StorageConfig, open_gateway
from ducksets.pack import PACK_SCHEMA
from ducksets.responses import BackendLimits

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

__all__ = ["DEFAULT_TIMEOUT", "ServedCatalog", "create_server", "parse_http_address", "serve"]

DEFAULT_HOST = "127.0.0.1"
INSTALL_HINT = "pip install 'ducksets[serve]'"


def create_server(catalog: ServedCatalog) -> MCPServer[Any]:
    """An ``MCPServer`` whose four tools answer from ``catalog``.

    Raises
    ------
    MissingExtraError
        The ``mcp`` package is not installed (``pip install 'ducksets[serve]'``).
    """
    _mcp_server_class()
    from ducksets._serve_mcp import build_server  # imports mcp

    return build_server(catalog)


def serve(
    db: str | Path,
    *,
    http: str | None = None,
    max_rows_per_call: int = 1000,
    timeout: float = DEFAULT_TIMEOUT,
    pack_schema: str = PACK_SCHEMA,
) -> None:
    """Serve the datasets of ``db`` over MCP until stopped: stdio, or streamable HTTP.

    Parameters
    ----------
    db
        The database file; opened read-only, never written.
    http
        ``[HOST:]PORT`` to serve streamable HTTP at ``http://HOST:PORT/mcp``
        (host ``127.0.0.1`` unless given); ``None`` serves stdio.
    max_rows_per_call
        The largest page ``read_dataset_rows`` returns.
    timeout
        Seconds one call may run before its query is interrupted.
    pack_schema
        The schema of the pack.

    Raises
    ------
    MissingExtraError
        The ``mcp`` package is not installed.
    InvalidArgumentError
        ``http`` is not ``[HOST:]PORT``, or ``timeout`` is not a positive number.
    NotADatabaseError, CatalogMissingError, PackIntegrityError
        As ``open_gateway`` raises them.
    """
    _mcp_server_class()  # before the database opens: say what to install first
    address = None if http is None else parse_http_address(http)
    require_timeout(timeout)
    limits = BackendLimits(max_rows_per_call=max_rows_per_call)
    check_database_path(Path(db), read_only=True)
    config = StorageConfig(db, read_only=True, pack_schema=pack_schema)
    with open_gateway(config) as gateway:
        server = create_server(ServedCatalog(gateway, limits=limits, timeout=timeout))
        if address is None:
            print(f"ducksets serve: serving {db} read-only over MCP on stdio", file=sys.stderr)
            server.run("stdio")
            return
        host, port = address
        where = f"http://{f'[{host}]' if ':' in host else host}:{port}/mcp"
        print(f"ducksets serve: serving {db} read-only over MCP at {where}", file=sys.stderr)
        # Plain JSON replies, not an SSE stream per request: the tools send no
        # notifications, and it serves ~1.5x the calls (benchmarks/serve.py).
        server.run("streamable-http", host=host, port=port, json_response=True)


def parse_http_address(address: str) -> tuple[str, int]:
    """``(host, port)`` from ``PORT``, ``HOST:PORT`` or ``[IPv6]:PORT``; host ``127.0.0.1`` if none.

    >>> parse_http_address("8000"), parse_http_address("0.0.0.0:8000")
    (('127.0.0.1', 8000), ('0.0.0.0', 8000))
    """
    host, _, port_text = address.rpartition(":")
    host = host.removeprefix("[").removesuffix("]") or DEFAULT_HOST
    if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        msg = f"--http takes [HOST:]PORT with a port from 1 to 65535, not {address!r}"
        raise InvalidArgumentError(msg, parameter="http", value=address)
    return host, int(port_text)


def _mcp_server_class() -> type[MCPServer[Any]]:
    try:
        from mcp.server.mcpserver import MCPServer
    except ImportError as exc:
        msg = f"serving needs the mcp package, which is not installed: {INSTALL_HINT}"
        raise MissingExtraError(msg, extra="serve") from exc
    return MCPServer
