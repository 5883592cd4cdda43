"""What ``ducksets serve`` answers, without the MCP layer: four read-only tools as JSON-safe dicts.

``ServedCatalog`` holds one read-only gateway. Every call reads through cursors
of its own (never the gateway's connection itself), so calls from several
threads run side by side; a call that runs longer than ``timeout`` seconds has
its cursors interrupted (``cursor.interrupt()``) and ends in a
``ReadTimeoutError``, and the next call is served as usual. Values follow the
CLI's JSON rules (``ducksets.output.json_value``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb

from ducksets._args import require_int, require_str
from ducksets._serve_listing import listed_datasets
from ducksets._serve_watchdog import WATCHDOG, Call
from ducksets.describe import describe_dataset
from ducksets.drift import catalog_drift
from ducksets.errors import InvalidArgumentError, ReadTimeoutError
from ducksets.gateway import Gateway
from ducksets.output import json_value
from ducksets.responses import BackendLimits, DatasetRowsResponse
from ducksets.rows import DatasetQueryService

DEFAULT_TIMEOUT = 10.0
"""Seconds one tool call may run before its query is interrupted."""

_T = TypeVar("_T")

# The cursors the current call opened: set in the thread that runs the call.
_CALL: contextvars.ContextVar[Call | None] = contextvars.ContextVar("ducksets_serve_call")


class _ServedGateway(Gateway):
    """The served gateway: each call's cursors are remembered, for its watchdog."""

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = super().cursor()
        call = _CALL.get(None)
        if call is not None:
            call.add(cursor)
        return cursor


class ServedCatalog:
    """The read-only tools of ``ducksets serve`` over one open gateway.

    Parameters
    ----------
    gateway
        A gateway opened read-only (``open_gateway(StorageConfig(path, read_only=True))``).
        Its connection is shared; the caller closes the gateway.
    limits
        The limits of one ``read_dataset_rows`` call.
    timeout
        Seconds a call may run; a longer read is interrupted.
    """

    def __init__(
        self,
        gateway: Gateway,
        *,
        limits: BackendLimits | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.timeout = require_timeout(timeout)
        self.gateway: Gateway = _ServedGateway(gateway.config, gateway.con)
        self.service = DatasetQueryService(self.gateway, limits=limits)

    def list_datasets(self) -> dict[str, Any]:
        """Every dataset: name, table key, kind, rows (base tables only), description."""
        return self._guarded(self._list_datasets)

    def describe_dataset(self, name: Any) -> dict[str, Any]:
        """One dataset: kind, filenames, declared and actual columns with types, drift."""
        name = _dataset_name(name)

        def describe() -> dict[str, Any]:
            with self._cursor() as cursor:
                described = describe_dataset(cursor, name, pack_schema=self._pack_schema)
            return dict(json_value(described.to_dict()))

        return self._guarded(describe)

    def read_dataset_rows(
        self, name: Any, limit: Any = 100, offset: Any = 0, cursor: Any = None
    ) -> dict[str, Any]:
        """One page of a dataset, as ``DatasetQueryService.read_dataset_rows`` returns it."""
        name = _dataset_name(name)
        limit, offset = require_int("limit", limit), require_int("offset", offset)
        page = self._guarded(
            lambda: self.service.read_dataset_rows(
                dataset_name=name, limit=limit, offset=offset, cursor=cursor
            )
        )
        return page_dict(page)

    def catalog_drift(self) -> dict[str, Any]:
        """Where the catalog and the database disagree; ``in_sync`` when nowhere."""

        def drift() -> dict[str, Any]:
            with self._cursor() as cursor:
                report = catalog_drift(cursor, pack_schema=self._pack_schema)
            items = [
                {"table_key": i.table_key, "drift": i.drift, "detail": i.detail} for i in report
            ]
            return {"in_sync": report.in_sync, "items": items}

        return self._guarded(drift)

    @property
    def _pack_schema(self) -> str:
        return self.gateway.config.pack_schema

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        # A DuckDB cursor is a context manager that closes it.
        return self.gateway.cursor()

    def _list_datasets(self) -> dict[str, Any]:
        with self._cursor() as cursor:
            listed = listed_datasets(cursor, self._pack_schema)
        return {"datasets": json_value(listed)}

    def _guarded(self, read: Callable[[], _T]) -> _T:
        """``read()``, its cursors interrupted if it runs longer than ``self.timeout``."""
        call = Call()
        token = _CALL.set(call)
        WATCHDOG.watch(call, self.timeout)
        try:
            return read()
        except Exception as exc:
            if call.expired:
                raise self._timed_out() from exc
            raise
        finally:
            call.finish()
            _CALL.reset(token)

    def _timed_out(self) -> ReadTimeoutError:
        msg = (
            f"the read ran longer than {self.timeout:g} s and was interrupted; "
            "ask for a smaller page, or start the server with a larger --timeout"
        )
        return ReadTimeoutError(msg, seconds=self.timeout)


def require_timeout(timeout: Any) -> float:
    """``timeout`` as seconds if it is a positive, finite number (not a bool)."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < 1e9:
        msg = f"timeout must be a positive number of seconds, not {timeout!r}"
        raise InvalidArgumentError(msg, parameter="timeout", value=timeout)
    return float(timeout)


def page_dict(page: DatasetRowsResponse) -> dict[str, Any]:
    """A page as the ``read_dataset_rows`` tool returns it (JSON-safe)."""
    meta = page.meta
    document = {
        "dataset": page.dataset,
        "columns": list(page.columns),
        "rows": list(page.rows),
        "limit": page.limit,
        "offset": page.offset,
        "requested_limit": meta.requested_limit,
        "requested_offset": meta.requested_offset,
        "truncated": meta.truncated,
        "next_offset": page.next_offset,
        "next_cursor": page.next_cursor,
        "messages": [
            {"code": m.code, "severity": m.severity, "detail": m.detail, "context": m.context}
            for m in meta.messages
        ],
    }
    return dict(json_value(document))


def _dataset_name(name: Any) -> str:
    # The tool's argument is ``name``; the library's is ``dataset_name``.
    return require_str("name", name, what="a dataset name")
