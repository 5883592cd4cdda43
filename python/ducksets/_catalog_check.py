"""Is the pack's catalog there and in shape? The checks before a catalog is read or written.

``require_catalog`` checks the two catalog tables (``datasets``,
``dataset_columns``); ``require_intact_pack`` checks them and every other pack
object from one reading of the pack. ``integrity`` does the comparing; it is
imported when a check runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import duckdb

from ducksets._args import require_connection, require_str
from ducksets.errors import CatalogMissingError, CatalogShapeError
from ducksets.pack import PACK_SCHEMA
from ducksets.sqltext import qualified_name

if TYPE_CHECKING:
    from ducksets._pack_reader import Problem


def require_catalog(con: duckdb.DuckDBPyConnection, pack_schema: str = PACK_SCHEMA) -> None:
    """Raise unless the pack's catalog tables exist with the pack's shape (one query).

    Raises
    ------
    CatalogMissingError
        ``datasets`` or ``dataset_columns`` is missing.
    CatalogShapeError
        One is a view or has an ALTERed, dropped or renamed column: read as it
        is, ``'false'`` would count as true or a query would fail to bind.
    """
    # integrity reads the pack's files; import it when a catalog is read.
    from ducksets.integrity import table_problems

    require_connection("con", con)
    require_str("pack_schema", pack_schema, what="a schema name")
    raise_catalog_problems(con, pack_schema, table_problems(con, pack_schema=pack_schema))


def require_intact_pack(con: duckdb.DuckDBPyConnection, pack_schema: str = PACK_SCHEMA) -> None:
    """``require_catalog``, then ``integrity.require_pack``, from one reading of the pack.

    Raises
    ------
    CatalogMissingError, CatalogShapeError
        As ``require_catalog``: the catalog tables come first.
    PackIntegrityError
        Any other pack object is missing or changed.
    """
    from ducksets.integrity import integrity_error, pack_problems

    require_connection("con", con)
    require_str("pack_schema", pack_schema, what="a schema name")
    problems = pack_problems(con, pack_schema=pack_schema)
    raise_catalog_problems(con, pack_schema, problems)
    if problems:
        raise integrity_error(tuple(p.text for p in problems))


def raise_catalog_problems(
    con: duckdb.DuckDBPyConnection, pack_schema: str, problems: Iterable[Problem]
) -> None:
    """Raise ``require_catalog``'s error for the catalog tables' problems among ``problems``."""
    from ducksets.integrity import repair_command

    catalog = {qualified_name(pack_schema, t) for t in ("datasets", "dataset_columns")}
    found = [p for p in problems if p.obj in catalog or p.no_pack]
    if any(p.missing for p in found):
        msg = (
            f"no ducksets catalog in schema {pack_schema!r} (or an old pack without "
            f"dataset_columns); run install_macros(con) or: {repair_command(con)}"
        )
        raise CatalogMissingError(msg)
    if found:
        raise CatalogShapeError(found[0].text, table=found[0].obj)
