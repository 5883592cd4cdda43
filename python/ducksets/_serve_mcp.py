"""The MCP side of ``ducksets serve``: the four tools on an ``MCPServer``.

Imported only once ``mcp`` is known to be installed (``ducksets.serve`` checks).
No ``from __future__ import annotations`` here: the SDK reads the tools'
annotations at run time to build their input schemas.
"""

from collections.abc import Callable
from typing import Annotated, Any

import duckdb
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import WithJsonSchema

from ducksets._serve_tools import ServedCatalog
from ducksets.errors import DucksetsError, RelationMissingError, first_line

# Arguments reach the catalog as sent, the schema only advertising the type:
# its checks name the argument and refuse what the CLI refuses (true for a
# number, "5" for an integer), where pydantic would coerce them.
Text = Annotated[Any, WithJsonSchema({"type": "string"})]
Integer = Annotated[Any, WithJsonSchema({"type": "integer"})]
OptionalText = Annotated[Any, WithJsonSchema({"type": ["string", "null"]})]

INSTRUCTIONS = (
    "Read-only access to the datasets of one DuckDB catalog: list them, describe one, "
    "read one page by page (follow next_cursor until it is null), check drift. "
    "No SQL is taken and nothing is written."
)

_READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


def build_server(catalog: ServedCatalog) -> MCPServer[Any]:
    """An ``MCPServer`` named ``ducksets`` with the four read-only tools of ``catalog``."""
    server: MCPServer[Any] = MCPServer("ducksets", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(annotations=_READ_ONLY)
    def list_datasets() -> dict[str, Any]:
        """Every dataset: name, table_key, kind (table or view), rows (base tables only;
        null for a view, which counting would run) and description (the relation's comment)."""
        return _answer(catalog.list_datasets)

    @server.tool(annotations=_READ_ONLY)
    def describe_dataset(name: Text) -> dict[str, Any]:
        """One dataset: table_key, kind, export filenames, declared and actual columns
        (name, type, nullable) and its drift items."""
        return _answer(lambda: catalog.describe_dataset(name))

    @server.tool(annotations=_READ_ONLY)
    def read_dataset_rows(
        name: Text, limit: Integer = 100, offset: Integer = 0, cursor: OptionalText = None
    ) -> dict[str, Any]:
        """One page of a dataset in a stable order: rows (column -> value), columns, the
        applied limit and offset, truncated, next_offset and next_cursor (null on the last
        page) and messages (limit_clamped, offset_clamped, dataset_empty, ...). To read on,
        pass the page's next_cursor as cursor (offset 0): a deep page then costs about
        what the first one does."""
        return _answer(lambda: catalog.read_dataset_rows(name, limit, offset, cursor))

    @server.tool(annotations=_READ_ONLY)
    def catalog_drift() -> dict[str, Any]:
        """Where the catalog and the database disagree: in_sync, and items of
        table_key, drift (a code) and detail."""
        return _answer(catalog.catalog_drift)

    return server


def _answer(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``call()``; a ducksets or DuckDB error becomes a tool error of its first line."""
    try:
        return call()
    except DucksetsError as exc:
        message = first_line(exc)
        if isinstance(exc, RelationMissingError):
            message += " (or call the catalog_drift tool)"
        raise ToolError(message) from exc
    except duckdb.Error as exc:
        raise ToolError(first_line(exc)) from exc
