"""One transaction around a batch of statements, rolled back on any error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from ducksets.errors import DucksetsError


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, what: str) -> Iterator[None]:
    """Run the block in its own transaction: commit at the end, roll back on error.

    ``what`` names the caller in the error raised when a transaction is already open.
    """
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException as exc:
        msg = f"{what} runs in its own transaction; commit or roll back yours first"
        raise DucksetsError(msg) from exc
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
