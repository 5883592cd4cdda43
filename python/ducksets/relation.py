"""A dataset as a DuckDB relation, for ``.df()``, ``.pl()``, ``.arrow()`` or more SQL."""

from __future__ import annotations

import duckdb

from ducksets._query import fetch_one
from ducksets.catalog import catalog_table, require_catalog, unknown_dataset_message
from ducksets.errors import UnknownDatasetError
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
    require_catalog(con, pack_schema)
    datasets = catalog_table(pack_schema, "datasets")
    row = fetch_one(con, f"SELECT table_key FROM {datasets} WHERE name = ?", [name])
    if row is None:
        known = [r[0] for r in con.execute(f"SELECT name FROM {datasets}").fetchall()]
        raise UnknownDatasetError(unknown_dataset_message(name, known))
    return con.sql(f"SELECT * FROM {parse_table_key(row[0]).sql()}")
