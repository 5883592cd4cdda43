"""One transaction around a batch of statements, rolled back on any error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import duckdb

from ducksets.errors import TransactionOpenError


@contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, what: str, *, join_open: bool = False
) -> Iterator[None]:
    """Run the block in its own transaction: commit at the end, roll back on error.

    ``what`` names the caller in the error raised when a transaction is already
    open; with ``join_open`` the caller's open transaction is used instead (and
    left open), which gives reads the same single snapshot. A failed ``COMMIT``
    (disk full) raises DuckDB's error with nothing committed.
    """
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException as exc:
        if join_open:
            yield
            return
        msg = f"{what} runs in its own transaction; commit or roll back yours first"
        raise TransactionOpenError(msg) from exc
    try:
        yield
    except BaseException:
        _end_failed_transaction(con)  # a failing ROLLBACK must not hide the error
        raise
    try:
        con.execute("COMMIT")
    except duckdb.Error:
        _end_failed_transaction(con)
        raise


def _end_failed_transaction(con: duckdb.DuckDBPyConnection) -> None:
    """Leave no transaction open after an error or a failed COMMIT (DuckDB may have ended it)."""
    # An error here means nothing is open: DuckDB rolled the failed commit back itself.
    with suppress(duckdb.Error):
        con.execute("ROLLBACK")
