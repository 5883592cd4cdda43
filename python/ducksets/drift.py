"""The drift report: where ``metadata.datasets`` and the database disagree."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb

from ducksets._args import require_connection
from ducksets._catalog_check import require_intact_pack
from ducksets._html import html_table
from ducksets.pack import PACK_SCHEMA
from ducksets.registry import catalog_table


@dataclass(frozen=True)
class DriftItem:
    """One disagreement: the table key, a short code and what exactly differs."""

    table_key: str
    drift: str
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
