"""A dataset as a DuckDB relation, for ``.df()``, ``.pl()``, ``.arrow()`` or more SQL."""

from __future__ import annotations

import duckdb

from ducksets.catalog import lookup_table_key
from ducksets.keys import parse_table_key
from ducksets.pack import PACK_SCHEMA


def dataset_relation(
    con: duckdb.DuckDBPyConnection, name: str, *, pack_schema: str = PACK_SCHEMA
) -> duckdb.DuckDBPyRelation:
    """The relation of the dataset called ``name``; nothing is read until you ask.

    Parameters
    ----------
    con
        A connection whose database has the pack installed.
    name
        The dataset name.
    pack_schema
        The schema the pack is installed in.

    Raises
    ------
    UnknownDatasetError
        No dataset has that name; the message suggests close names.
    """
    table_key = lookup_table_key(con, name, pack_schema=pack_schema)
    return con.sql(f"SELECT * FROM {parse_table_key(table_key).sql()}")
