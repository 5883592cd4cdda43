"""Page cursors: an opaque, signed string that says where the next page starts.

A cursor is ``<payload>.<tag>``, both urlsafe base64 without padding: the
payload is compact JSON (format version, dataset name, table key, order,
position, column signature, the last row's values as text, ties), the tag the
first 16 bytes of its HMAC-SHA256. The key is random per process unless the
service is given one (``DatasetQueryService(cursor_secret=...)``), so a
cursor works only in the process (or the processes sharing a secret) that
issued it, and not after a restart. The tag is not there to hide anything (a
client may read every row anyway): it makes a changed or made-up cursor one
clear error instead of a cast error deep in a query, and it lets the reader
trust the values' shape. The values are always bound as query parameters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from ducksets.errors import ArgumentTypeError, InvalidArgumentError, InvalidCursorError

Order = Literal["scan", "sorted", "after"]
"""``scan``: an offset in insertion order; ``sorted``: an offset in ``ORDER BY ALL``
order; ``after``: rows after ``last`` in ``ORDER BY ALL`` order (keyset)."""

_VERSION = 1
_TAG_BYTES = 16
_PROCESS_SECRET = secrets.token_bytes(32)
_ORDERS = ("scan", "sorted", "after")
_RESTART = "start again without a cursor (offset 0)"


@dataclass(frozen=True)
class PageCursor:
    """Where the next page starts.

    ``position`` counts the rows before it in the order (the next offset).
    For ``after``, ``last`` holds the last row returned, each value as
    DuckDB's text of it (``None`` for NULL), and ``ties`` how many rows equal
    to it were returned already; ``columns`` is the signature of the column
    names and types the cursor was made for.
    """

    dataset: str
    table_key: str
    order: Order
    position: int
    columns: str = ""
    last: tuple[str | None, ...] = ()
    ties: int = 0


def cursor_secret_or_default(secret: bytes | None) -> bytes:
    """The key for cursor tags: ``secret``, or this process's random one."""
    if secret is None:
        return _PROCESS_SECRET
    # The secret itself is never put in an error (value=None).
    if not isinstance(secret, bytes):
        msg = f"cursor_secret must be bytes (at least 16), not {type(secret).__name__}"
        raise ArgumentTypeError(msg, parameter="cursor_secret", value=None)
    if len(secret) < 16:
        msg = f"cursor_secret must be at least 16 bytes, not {len(secret)}"
        raise InvalidArgumentError(msg, parameter="cursor_secret", value=None)
    return secret


def encode_cursor(cursor: PageCursor, secret: bytes) -> str:
    """``cursor`` as a string safe to hand to a client (URL-safe, no padding)."""
    fields = [
        _VERSION,
        cursor.dataset,
        cursor.table_key,
        cursor.order,
        cursor.position,
        cursor.columns,
        list(cursor.last),
        cursor.ties,
    ]
    payload = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
    return f"{_b64(payload)}.{_b64(_tag(payload, secret))}"


def decode_cursor(text: Any, secret: bytes, *, dataset: str) -> PageCursor:
    """The cursor ``text`` holds, if this process (``secret``) issued it for ``dataset``.

    Raises
    ------
    ArgumentTypeError
        ``text`` is not a string.
    InvalidCursorError
        It was altered, cut, made up or issued elsewhere (another process, a
        restart), or it belongs to another dataset.
    """
    if not isinstance(text, str):
        msg = f"cursor must be a string from a page's next_cursor, not {type(text).__name__}"
        raise ArgumentTypeError(msg, parameter="cursor", value=text)
    payload = _verified_payload(text, secret)
    cursor = _parse(payload) if payload is not None else None
    if cursor is None:
        msg = (
            "cursor is not one this service issued (changed, cut short, or from another "
            f"process: cursors do not survive a restart); {_RESTART}"
        )
        raise InvalidCursorError(msg, parameter="cursor", value=text)
    if cursor.dataset != dataset:
        msg = f"cursor belongs to dataset {cursor.dataset!r}, not {dataset!r}; {_RESTART}"
        raise InvalidCursorError(msg, parameter="cursor", value=text)
    return cursor


def stale_cursor(dataset: str, what: str, text: str) -> InvalidCursorError:
    """The error for a cursor whose dataset changed under it (``what`` says how)."""
    msg = f"dataset {dataset!r} {what} since this cursor was made; {_RESTART}"
    return InvalidCursorError(msg, parameter="cursor", value=text)


def column_signature(names: tuple[str, ...], types: tuple[str, ...]) -> str:
    """A short digest of a relation's column names and types."""
    text = json.dumps([names, types], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _tag(payload: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()[:_TAG_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _verified_payload(text: str, secret: bytes) -> bytes | None:
    """The payload if the tag matches, else ``None``."""
    body, dot, tag = text.partition(".")
    if not dot or not text.isascii():
        return None
    try:
        payload, given = _unb64(body), _unb64(tag)
    except (binascii.Error, ValueError):
        return None
    return payload if hmac.compare_digest(given, _tag(payload, secret)) else None


def _parse(payload: bytes) -> PageCursor | None:
    """The cursor in a verified payload; ``None`` for another format version."""
    try:
        version, dataset, key, order, position, columns, last, ties = json.loads(payload)
    except (ValueError, TypeError):
        return None
    if version != _VERSION or order not in _ORDERS:
        return None
    return PageCursor(dataset, key, order, position, columns, tuple(last), ties)
