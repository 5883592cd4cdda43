"""What a paged read returns: its limits, its responses and the messages that explain them.

``DatasetQueryService`` (``ducksets.rows``) reads the pages; the types here
hold what one call may return (``BackendLimits``) and what it did return
(``DatasetRowsResponse`` with its ``ResponseMeta`` and ``Message``s), and the
functions make the messages that say how a request was served.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from ducksets._args import require_int
from ducksets._html import html_table
from ducksets.errors import ConfigError

Severity = Literal["info", "warning"]

MAX_OFFSET = 2**63 - 1
"""The largest offset DuckDB takes (BIGINT); larger requests are clamped to it."""

_NO_CONTEXT: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class BackendLimits:
    """What one call may return.

    Parameters
    ----------
    max_rows_per_call
        The largest page, ``1 .. 2**63 - 1``; a larger ``limit`` is clamped to
        it (with a message).

    Raises
    ------
    ArgumentTypeError
        ``max_rows_per_call`` is not an integer (a bool or float is refused).
    ConfigError
        It is below 1 or above DuckDB's BIGINT range.
    """

    max_rows_per_call: int = 1000

    def __post_init__(self) -> None:
        maximum = require_int("max_rows_per_call", self.max_rows_per_call)
        if not 1 <= maximum <= MAX_OFFSET:
            msg = f"max_rows_per_call must be at least 1 and at most {MAX_OFFSET}, not {maximum}"
            raise ConfigError(msg)
        object.__setattr__(self, "max_rows_per_call", maximum)


@dataclass(frozen=True)
class Message:
    """A note about how a request was served: a clamped argument, an empty page.

    ``code`` is stable (``limit_clamped``, ``offset_clamped``, ``dataset_empty``);
    ``detail`` is for people; ``context`` holds the numbers behind it.
    """

    code: str
    severity: Severity
    detail: str
    context: Mapping[str, Any] = field(default_factory=lambda: _NO_CONTEXT)


@dataclass(frozen=True)
class ResponseMeta:
    """What was asked, what was applied, and whether more rows follow.

    ``truncated`` is True when the dataset has rows beyond this page, so the
    page at ``applied_offset + applied_limit`` is not empty. It says nothing
    about clamping; a clamped limit has its own message.
    """

    requested_limit: int
    applied_limit: int
    requested_offset: int
    applied_offset: int
    truncated: bool
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True)
class DatasetRowsResponse:
    """One page of a dataset: rows as ``column -> value`` dicts, in the pack's order."""

    dataset: str
    limit: int
    offset: int
    rows: tuple[dict[str, Any], ...]
    meta: ResponseMeta
    columns: tuple[str, ...] = ()
    """The column names, in order (also known when the page is empty)."""
    next_cursor: str | None = None
    """Pass it as ``cursor`` for the next page; ``None`` when this page is the last."""

    @property
    def next_offset(self) -> int | None:
        """The offset of the next page, ``None`` when this page is the last."""
        return self.offset + len(self.rows) if self.meta.truncated else None

    def __repr__(self) -> str:
        if self.rows:
            span = f"rows {self.offset}-{self.offset + len(self.rows) - 1}"
        else:
            span = f"no rows at offset {self.offset}"
        more = ", more follow" if self.meta.truncated else ""
        notes = f"; messages: {', '.join(m.code for m in self.meta.messages)}"
        return (
            f"<DatasetRowsResponse {self.dataset!r}: {span} (limit {self.limit}){more}"
            f"{notes if self.meta.messages else ''}>"
        )

    def _repr_html_(self) -> str:
        body = (tuple(row[c] for c in self.columns) for row in self.rows)
        return html_table(self.columns, body, caption=repr(self).strip("<>"))


def clamped(what: str, requested: int, maximum: int, messages: list[Message]) -> int:
    """``requested`` within ``0 .. maximum``; a message in ``messages`` when it was not."""
    applied = min(max(requested, 0), maximum)
    if applied != requested:
        reason = "is negative" if requested < 0 else f"is above the maximum {maximum}"
        messages.append(
            Message(
                code=f"{what}_clamped",
                severity="warning",
                detail=f"{what} {requested} {reason}; using {applied}",
                context=MappingProxyType(
                    {"requested": requested, "applied": applied, "maximum": maximum}
                ),
            )
        )
    return applied


def empty_page_message(dataset_name: str, limit: int, offset: int, more_rows: bool) -> Message:
    """The ``dataset_empty`` message of a page without rows: why it has none."""
    if more_rows:
        detail = f"limit 0 asks for no rows; dataset {dataset_name!r} has rows at offset {offset}"
    elif offset == 0:
        detail = f"dataset {dataset_name!r} has no rows"
    else:
        detail = f"dataset {dataset_name!r} has no rows at offset {offset} (it ends before)"
    context = {"dataset": dataset_name, "limit": limit, "offset": offset, "more_rows": more_rows}
    return Message("dataset_empty", "info", detail, MappingProxyType(context))


def offset_cursor_message(dataset_name: str, unsupported: tuple[str, ...]) -> Message:
    """The ``cursor_by_offset`` message: these columns make the next cursor an offset."""
    shown = ", ".join(unsupported[:3]) + (", ..." if len(unsupported) > 3 else "")
    detail = (
        f"dataset {dataset_name!r} has columns a cursor cannot hold exactly ({shown}); "
        "its next_cursor holds an offset, so a deep page costs a sort, as by offset"
    )
    context = {"dataset": dataset_name, "columns": unsupported}
    return Message("cursor_by_offset", "info", detail, MappingProxyType(context))
