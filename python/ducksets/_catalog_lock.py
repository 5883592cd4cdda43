"""The catalog's write lock: one transaction per write, serialized, conflicts retried.

A catalog without constraints (DuckLake has no PRIMARY KEY or UNIQUE) keeps
``table_key`` and ``name`` unique only if no two writers can both insert the
same new row; MVCC alone lets them (nothing conflicts between two INSERTs).
Every ducksets catalog write therefore runs through ``write_catalog``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb

from ducksets._names import SQL_ASCII_FOLD, fold_name
from ducksets._query import fetch_one
from ducksets._transaction import transaction
from ducksets.errors import CatalogConflictError, CatalogMissingError
from ducksets.registry import catalog_table
from ducksets.sqltext import quote_literal

_T = TypeVar("_T")


def write_catalog(
    con: duckdb.DuckDBPyConnection, pack_schema: str, write: Callable[[], _T], *, subject: str
) -> _T:
    """Run ``write`` in its own transaction that holds the catalog's write lock; retry conflicts.

    The catalog keeps ``table_key`` and ``name`` unique without relying on
    constraints (a DuckLake catalog has none): a write reads the rows it
    checks against and writes in one transaction, and every write first
    re-sets the comment of ``datasets`` to itself. That is a catalog change
    two transactions cannot both commit (DuckDB: a write-write conflict on
    the table; DuckLake: a conflict between two snapshots that altered it), so
    catalog writes are serialized: two writers of one new key cannot both
    insert it, which MVCC alone allows (nothing conflicts between two
    INSERTs). The loser's transaction is rolled back whole and run again,
    reading the winner's rows: it then updates them, or refuses a name taken
    meanwhile. A bounded, jittered retry absorbs the usual burst; a conflict
    that outlasts it is a CatalogConflictError saying to retry.
    """
    started = time.monotonic()
    attempt = 1
    while True:
        try:
            with transaction(con, "writing the catalog"):
                _lock_catalog(con, pack_schema)
                return write()
        except duckdb.Error as exc:
            if not _is_write_conflict(exc):
                raise
            waited = time.monotonic() - started
            if attempt == _WRITE_ATTEMPTS or waited > _WRITE_SECONDS:
                msg = (
                    f"another transaction wrote {subject} at the same time ({attempt} "
                    f"attempts in {waited:.1f} s); nothing was written by this call; retry it"
                )
                raise CatalogConflictError(msg) from exc
            time.sleep(random.uniform(0, min(0.1, 0.005 * 2**attempt)))
            attempt += 1


_WRITE_ATTEMPTS = 20
# A DuckLake catalog in SQLite that another process holds makes one attempt
# wait seconds (DuckLake retries its commit itself): bound the time too.
_WRITE_SECONDS = 10.0


_CONFLICT_MARKERS = ("conflict", "duplicate key", "constraint violation", "database is locked")


def _is_write_conflict(exc: duckdb.Error) -> bool:
    """True for errors a concurrent writer of the catalog causes (not for bad data).

    ``database is locked``: a DuckLake catalog in SQLite while another process commits.
    """
    if not isinstance(exc, (duckdb.TransactionException, duckdb.ConstraintException)):
        return "database is locked" in str(exc)
    text = str(exc).lower()
    return any(marker in text for marker in _CONFLICT_MARKERS)


def _lock_catalog(con: duckdb.DuckDBPyConnection, pack_schema: str) -> None:
    """Take the catalog's write lock in the open transaction: re-set ``datasets``' comment."""
    fold = SQL_ASCII_FOLD.format("schema_name")
    row = fetch_one(
        con,
        f"SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
        f"AND {fold} = ? AND table_name = 'datasets'",
        [fold_name(pack_schema)],
    )
    if row is None:
        msg = f"no ducksets catalog in schema {pack_schema!r}; run install_macros(con)"
        raise CatalogMissingError(msg)
    comment = "NULL" if row[0] is None else quote_literal(str(row[0]))
    con.execute(f"COMMENT ON TABLE {catalog_table(pack_schema, 'datasets')} IS {comment}")
