"""Reading datasets page by page: ``DatasetQueryService`` (its responses: ``responses``).

Reading ``offset = 0, limit, 2 * limit, ...`` until a page is not
``truncated`` yields every row of the dataset exactly once (duplicates as
often as the dataset holds them), in the same order on every read, for tables
and views alike. The order is the pack's rule (``scan_is_ordered``): a base
table pages in insertion order, which DuckDB keeps for a plain scan while
``preserve_insertion_order`` is on, so its page is the bare ``LIMIT/OFFSET``
scan that ``dataset_rows(row_order := 'scan')`` runs; anything else is read
in the pack's total order over all columns (``ORDER BY ALL ASC NULLS LAST``, a
sort), as ``dataset_rows`` reads it.

A page that is not the last carries ``next_cursor``, an opaque string: passed
back as ``cursor``, it continues where the page ended. For a base table it
holds the next offset; for anything else the last row's values, so the next
page reads only the rows after them (``_keyset``) and a deep page costs about
what page 1 costs, where ``OFFSET 9000000`` sorts nearly everything. Cursors
are signed (``_cursor``) and bound to the dataset, its key and its columns.
"""

from __future__ import annotations

import duckdb

from ducksets._args import require_instance, require_int, require_str
from ducksets._cursor import (
    Order,
    PageCursor,
    cursor_secret_or_default,
    decode_cursor,
    encode_cursor,
    stale_cursor,
)
from ducksets._introspect import Relation, current_database
from ducksets._keyset import Given, Page, read_sorted
from ducksets.errors import (
    DatasetUnreadableError,
    GatewayClosedError,
    InvalidCursorError,
)
from ducksets.gateway import Gateway
from ducksets.registry import catalog_table, key_or_none, lookup_table_key
from ducksets.relation import resolve_relation, snapshot, unreadable
from ducksets.responses import (
    MAX_OFFSET,
    BackendLimits,
    DatasetRowsResponse,
    Message,
    ResponseMeta,
    clamped,
    empty_page_message,
    offset_cursor_message,
)

# The response types are defined in ``responses``; this module has always offered them too.
__all__ = [
    "MAX_OFFSET",
    "BackendLimits",
    "DatasetQueryService",
    "DatasetRowsResponse",
    "Message",
    "ResponseMeta",
]

_ORDERED = "current_setting('preserve_insertion_order')"

# A base table's page, with one value in front: whether the catalog names the
# dataset's registered key now (the registry is a snapshot, the catalog is the
# truth) and scan order holds. One statement: one snapshot, no BEGIN/COMMIT.
# The page is a derived table of its own, so DuckDB still skips to the offset
# in the scan (a scalar subquery beside it would cost that), and it holds the
# table's columns alone, so none is renamed. Its filter binds ``rowid``, which
# only a base table has (a view put in the table's place fails), and is folded
# away before it runs. The catalog side is one row (an aggregate), so the
# cross product neither repeats nor drops page rows, and as the build side it
# lets the page stream through in scan order. ``bool_and`` is NULL without a
# catalog row, false when duplicate rows disagree (DuckLake has no keys).
_SCANNED_PAGE = f"""
    SELECT ducksets_named.page_holds, ducksets_page.*
    FROM (
        SELECT * FROM {{table}} AS ducksets_table
        WHERE true OR ducksets_table.rowid IS NULL
        LIMIT $1 OFFSET $2
    ) AS ducksets_page,
    (
        SELECT bool_and(table_key = $4) AND {_ORDERED} AS page_holds
        FROM {{catalog}} WHERE name = $3
    ) AS ducksets_named
"""


class DatasetQueryService:
    """Paged reads of registered datasets, with limits clamped and explained.

    Safe to share between threads: every call opens its own cursor on the
    gateway's connection (``gateway.cursor()``, closed when the call returns)
    and reads in one statement or one transaction of it, so concurrent calls
    neither block one another nor see another call's rows.

    A base table in the gateway's registry (``gateway.datasets``) is read by
    its registered key, as fast as a bare ``LIMIT/OFFSET``; after pointing a
    dataset's name at another table, call ``gateway.refresh()``. Any other
    name is looked up in the catalog as it is then, so a dataset registered
    after the gateway opened is found. A key that names no existing table or
    view is refused (never read as a file or another database's table).

    Parameters
    ----------
    gateway
        An open gateway: its connection, registry and pack schema are used.
    limits
        The limits of one call.
    cursor_secret
        The key that signs page cursors, at least 16 bytes. By default a
        random key of this process: cursors then work in this process only
        and not after a restart. Give processes that serve the same clients
        one secret to let cursors travel between them.

    Examples
    --------
    >>> from ducksets.gateway import open_memory_gateway
    >>> gateway = open_memory_gateway(views={"main.nums": "SELECT range AS n FROM range(5)"})
    >>> service = DatasetQueryService(gateway, limits=BackendLimits(max_rows_per_call=2))
    >>> page = service.read_dataset_rows(dataset_name="nums", limit=10, offset=2)
    >>> page.rows, page.meta.truncated, [m.code for m in page.meta.messages]
    (({'n': 2}, {'n': 3}), True, ['limit_clamped'])
    >>> service.read_dataset_rows(dataset_name="nums", cursor=page.next_cursor).rows
    ({'n': 4},)
    >>> gateway.close()
    """

    def __init__(
        self,
        gateway: Gateway,
        *,
        limits: BackendLimits | None = None,
        cursor_secret: bytes | None = None,
    ) -> None:
        require_instance("gateway", gateway, Gateway, how="open_gateway(...)")
        if limits is not None:
            require_instance("limits", limits, BackendLimits)
        self.gateway = gateway
        self.limits = limits or BackendLimits()
        self._secret = cursor_secret_or_default(cursor_secret)
        self._default_database: str | None = None

    def __repr__(self) -> str:
        return f"<DatasetQueryService {self.gateway!r}, {self.limits}>"

    def read_dataset_rows(
        self, *, dataset_name: str, limit: int = 100, offset: int = 0, cursor: str | None = None
    ) -> DatasetRowsResponse:
        """One page of ``dataset_name``: up to ``limit`` rows after the first ``offset``.

        Parameters
        ----------
        dataset_name
            A registered dataset name.
        limit
            Rows wanted, an integer; clamped to ``0 .. limits.max_rows_per_call``.
        offset
            Rows to skip, an integer; clamped to ``0 .. MAX_OFFSET``.
        cursor
            A page's ``next_cursor``: continue after that page (``offset`` must be 0).

        Returns
        -------
        DatasetRowsResponse
            The rows, the applied limit and offset (with a cursor: the rows
            before this page), ``meta.truncated`` (more rows follow),
            ``next_cursor``, and messages for each clamp and for an empty page.

        Raises
        ------
        ArgumentTypeError
            ``dataset_name`` or ``cursor`` is not a string, or ``limit``/``offset``
            is not an integer (``2.5``, ``"5"``, ``None``, NaN and ``True`` are refused).
        InvalidArgumentError
            ``dataset_name`` is empty.
        InvalidCursorError
            ``cursor`` was changed or issued elsewhere (another process, before
            a restart), belongs to another dataset, comes with an offset, or
            its dataset changed (key, columns, order) since it was made.
        UnknownDatasetError
            No dataset has that name; the message suggests close names.
        RelationMissingError
            The catalog names a relation that does not exist.
        DatasetUnreadableError
            The relation exists but fails to read (a view over a dropped table).
        GatewayClosedError
            The gateway was closed.
        """
        require_str("dataset_name", dataset_name, what="a dataset name")
        limit = require_int("limit", limit)
        offset = require_int("offset", offset)
        start = self._start(dataset_name, offset, cursor)
        messages: list[Message] = []
        applied_limit = clamped("limit", limit, self.limits.max_rows_per_call, messages)
        applied_offset = clamped("offset", offset, MAX_OFFSET, messages)
        if start is not None:
            applied_offset = start.cursor.position
        # One row more than asked tells whether the dataset goes on past this
        # page; DuckDB's LIMIT is a BIGINT, so the extra row stays within it.
        fetch_limit = min(applied_limit + 1, MAX_OFFSET)
        page = self._fetch(dataset_name, fetch_limit, applied_limit, applied_offset, start)
        asked = (limit, applied_limit, offset, applied_offset)
        return self._response(dataset_name, page, asked, messages, start)

    def _response(
        self,
        dataset_name: str,
        page: Page,
        asked: tuple[int, int, int, int],
        messages: list[Message],
        start: Given | None,
    ) -> DatasetRowsResponse:
        """The response for ``page``; ``asked`` is the requested and applied limit and offset."""
        applied_limit, applied_offset = asked[1], asked[3]
        truncated = len(page.rows) > applied_limit
        rows = tuple(dict(zip(page.columns, row, strict=True)) for row in page.rows[:applied_limit])
        next_cursor = None
        if truncated:
            next_cursor = self._next_cursor(dataset_name, page, applied_offset + len(rows), start)
            if page.unsupported:
                messages.append(offset_cursor_message(dataset_name, page.unsupported))
        if not rows:
            messages.append(
                empty_page_message(dataset_name, applied_limit, applied_offset, truncated)
            )
        meta = ResponseMeta(*asked, truncated, tuple(messages))
        return DatasetRowsResponse(
            dataset_name, applied_limit, applied_offset, rows, meta, page.columns, next_cursor
        )

    def _start(self, dataset_name: str, offset: int, cursor: str | None) -> Given | None:
        """The cursor's position, checked, or ``None`` without one."""
        if cursor is None:
            return None
        start = decode_cursor(cursor, self._secret, dataset=dataset_name)
        if offset != 0:
            msg = f"give a cursor or an offset, not both (offset {offset} with a cursor)"
            raise InvalidCursorError(msg, parameter="cursor", value=cursor)
        return Given(start, cursor)

    def _next_cursor(
        self, dataset_name: str, page: Page, position: int, start: Given | None
    ) -> str:
        """The cursor of the page after ``page``, whose first row is at ``position``."""
        order: Order = "after" if page.last is not None else page.order
        if page.last is None and start is not None and start.cursor.order == "after":
            # A page of no rows (limit 0) moves nowhere: the next one starts where it did.
            return start.text
        return encode_cursor(
            PageCursor(
                dataset_name,
                page.table_key,
                order,
                position,
                page.signature,
                page.last or (),
                page.ties,
            ),
            self._secret,
        )

    def _fetch(
        self, dataset_name: str, fetch: int, keep: int, offset: int, start: Given | None
    ) -> Page:
        # A cursor of its own per call: one DuckDB connection serves one call
        # at a time and holds one result, so threads sharing it would clash.
        cursor = self.gateway.cursor()
        try:
            page = None
            if start is None or start.cursor.order == "scan":
                page = self._scanned_page(cursor, dataset_name, fetch, offset, start)
            if page is None:
                page = self._checked_page(cursor, dataset_name, fetch, keep, offset, start)
            return page
        except (duckdb.Error, DatasetUnreadableError) as exc:
            # Closing the connection under a running read fails it in several
            # ways ("No open result set", a connection error): all are the close.
            if not (self.gateway.closed or isinstance(exc, duckdb.ConnectionException)):
                raise
            msg = f"the gateway on {self.gateway.config.path} was closed during the read"
            raise GatewayClosedError(msg) from exc
        finally:
            cursor.close()

    def _scanned_page(
        self,
        cursor: duckdb.DuckDBPyConnection,
        dataset_name: str,
        row_limit: int,
        row_offset: int,
        start: Given | None,
    ) -> Page | None:
        """A base table's page as the bare scan, or ``None``: then ``_checked_page`` serves it.

        The dataset's key and kind come from the gateway's registry; the
        page is one statement, ``_SCANNED_PAGE``, on the table's fully quoted
        three-part name (only a relation answers it, never a file). Anything
        else (a name the registry does not know, a view, a key that does not
        parse, a missing relation, the setting off, a catalog row changed
        since, a cursor made for another key, an empty page) is left to the
        checked path, which reads the catalog as it is now and explains.
        """
        dataset = self.gateway.datasets.by_name.get(dataset_name)
        if dataset is None or dataset.is_view:
            return None
        key = key_or_none(dataset.table_key)
        if key is None or (start is not None and start.cursor.table_key != dataset.table_key):
            return None
        database = key.database or self._database(cursor)
        table = Relation(database, key.schema, key.name, "table").sql()
        catalog = catalog_table(self.gateway.config.pack_schema, "datasets")
        try:
            result = cursor.execute(
                _SCANNED_PAGE.format(table=table, catalog=catalog),
                [row_limit, row_offset, dataset_name, dataset.table_key],
            )
            rows = result.fetchall()
            columns = tuple(d[0] for d in result.description or ())[1:]
        except duckdb.ConnectionException:
            raise
        except duckdb.Error:
            return None  # the checked path reads again and explains
        if not rows or not rows[0][0]:
            return None
        return Page(columns, [row[1:] for row in rows], dataset.table_key)

    def _database(self, cursor: duckdb.DuckDBPyConnection) -> str:
        """The database two-part keys name: a cursor's default one, the same for every cursor."""
        if self._default_database is None:
            self._default_database = current_database(cursor)
        return self._default_database

    def _checked_page(
        self,
        cursor: duckdb.DuckDBPyConnection,
        dataset_name: str,
        fetch: int,
        keep: int,
        offset: int,
        start: Given | None,
    ) -> Page:
        """The page read from the catalog as it is now, every step checked and explained.

        The relation is read by its fully quoted name, never through
        ``query_table`` (DuckDB 1.2's reads ``s."a""b"`` as ``s.ab``).
        """
        pack_schema = self.gateway.config.pack_schema
        # One transaction: the relation found is the relation read.
        with snapshot(cursor):
            table_key = lookup_table_key(cursor, dataset_name, pack_schema=pack_schema)
            if start is not None and start.cursor.table_key != table_key:
                raise stale_cursor(dataset_name, f"was registered as {table_key}", start.text)
            relation = resolve_relation(cursor, table_key, dataset=dataset_name)
            try:
                # A base table pages stably in a plain scan (the pack's
                # scan_is_ordered rule); anything else is sorted.
                if relation.kind == "table" and _scan_order_holds(cursor, start):
                    result = cursor.execute(
                        f"SELECT * FROM {relation.sql()} LIMIT ? OFFSET ?", [fetch, offset]
                    )
                    columns = tuple(d[0] for d in result.description or ())
                    return Page(columns, result.fetchall(), table_key)
                if start is not None and start.cursor.order == "scan":
                    raise stale_cursor(
                        dataset_name, "no longer pages in insertion order", start.text
                    )
                return read_sorted(
                    cursor, dataset_name, relation.sql(), table_key, fetch, keep, offset, start
                )
            except duckdb.ConnectionException:
                raise  # the gateway was closed meanwhile: said by _fetch
            except duckdb.Error as exc:
                raise unreadable(dataset_name, table_key, exc) from exc


def _scan_order_holds(cursor: duckdb.DuckDBPyConnection, start: Given | None) -> bool:
    """Whether this read pages a table in insertion order (a sorted cursor keeps sorting)."""
    if start is not None and start.cursor.order != "scan":
        return False
    row = cursor.execute(f"SELECT {_ORDERED}").fetchone()
    return bool(row and row[0])
