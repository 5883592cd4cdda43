"""The drift report: where ``metadata.datasets`` and the database disagree."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, get_args

import duckdb

from ducksets._args import require_connection
from ducksets._catalog_check import require_intact_pack
from ducksets._html import html_table
from ducksets.pack import PACK_SCHEMA
from ducksets.registry import catalog_table

DriftCode = Literal[
    "invalid_key",
    "missing_relation",
    "kind_mismatch",
    "unregistered_relation",
    "missing_column",
    "unexpected_column",
    "type_mismatch",
    "duplicate_key",
    "duplicate_name",
]
"""What a drift row reports (the ``drift`` column of ``catalog_drift()``).

- ``invalid_key``: the key is not ``schema.name`` or ``database.schema.name``,
  or starts with a bare keyword DuckDB refuses there.
- ``missing_relation``: no table or view has that key.
- ``kind_mismatch``: ``is_view`` disagrees with what the relation is.
- ``unregistered_relation``: a table or view in a schema the catalog uses has
  no catalog row (its canonical key is shown).
- ``missing_column`` / ``unexpected_column`` / ``type_mismatch``: a base
  table's columns disagree with its declared ones.
- ``duplicate_key``: several rows name one relation (keys compared as DuckDB
  compares names), or hold the same key text when it names none.
- ``duplicate_name``: several rows share one dataset name.

The two ``duplicate_*`` codes appear only in catalogs without constraints
(DuckLake), where SQL writes can let duplicates in; ducksets' own writes
check uniqueness inside their transaction.
"""

DRIFT_CODES: tuple[DriftCode, ...] = get_args(DriftCode)
"""Every drift code, in the order the pack documents them."""


@dataclass(frozen=True)
class DriftItem:
    """One disagreement: the table key, a short code (``DriftCode``) and what exactly differs."""

    table_key: str
    drift: DriftCode
    detail: str


@dataclass(frozen=True)
class DriftReport:
    """The rows of ``catalog_drift()``; empty (and truthy ``in_sync``) when in sync."""

    items: tuple[DriftItem, ...]

    @property
    def in_sync(self) -> bool:
        """True when the catalog and the database agree."""
        return not self.items

    def __iter__(self) -> Iterator[DriftItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        if self.in_sync:
            return "<DriftReport: in sync>"
        lines = [f"  {i.drift:<22} {i.table_key}: {i.detail}" for i in self.items]
        return "<DriftReport: {} problem(s)\n{}>".format(len(self.items), "\n".join(lines))

    def _repr_html_(self) -> str:
        if self.in_sync:
            return "<p>catalog and database are in sync</p>"
        rows = ((i.table_key, i.drift, i.detail) for i in self.items)
        return html_table(("table_key", "drift", "detail"), rows, caption="catalog drift")


def catalog_drift(con: duckdb.DuckDBPyConnection, *, pack_schema: str = PACK_SCHEMA) -> DriftReport:
    """Run the pack's ``catalog_drift()`` and return its rows.

    The pack is verified first, so a replaced ``catalog_drift`` macro cannot
    report a database as in sync.

    Raises
    ------
    ArgumentTypeError
        ``con`` is not a DuckDB connection.
    CatalogMissingError
        The pack is not installed.
    PackIntegrityError
        A pack object is missing or changed; ``ducksets install DB`` repairs it.
    """
    require_connection("con", con)
    require_intact_pack(con, pack_schema)
    macro = catalog_table(pack_schema, "catalog_drift")
    rows = con.execute(f"SELECT table_key, drift, detail FROM {macro}()").fetchall()
    return DriftReport(tuple(DriftItem(*row) for row in rows))
