"""One dataset described: its catalog row, declared and actual columns, and its drift.

``describe_dataset`` is what ``ducksets show`` prints; a notebook shows the
same ``DatasetDescription`` as an HTML table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from ducksets._html import html_table
from ducksets._introspect import find_relation
from ducksets._names import fold_name
from ducksets.drift import DriftItem, catalog_drift
from ducksets.errors import InvalidTableKeyError
from ducksets.keys import parse_table_key
from ducksets.pack import PACK_SCHEMA
from ducksets.registry import Dataset, load_dataset_registry


@dataclass(frozen=True)
class DescribedColumn:
    """A column as the dataset's ``TableSchema`` declares it, or as the relation has it now.

    ``primary_key`` is ``None`` for a column of the relation (``DESCRIBE`` does not say);
    ``description`` is the relation's column comment (``COMMENT ON COLUMN``),
    given for the relation's columns only.
    """

    name: str
    type: str
    nullable: bool
    primary_key: bool | None = None
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The column as JSON-ready data; ``primary_key`` and ``description`` only where known."""
        known: dict[str, Any] = {}
        if self.primary_key is not None:
            known["primary_key"] = self.primary_key
        if self.description is not None:
            known["description"] = self.description
        return {"name": self.name, "type": self.type, "nullable": self.nullable, **known}


@dataclass(frozen=True)
class ColumnComparison:
    """One column side by side; ``None`` where only the other side has it."""

    column: str
    declared_type: str | None
    actual_type: str | None
    description: str | None = None
    """the relation's comment on the column"""


@dataclass(frozen=True)
class DatasetDescription:
    """A dataset's catalog row, its declared and actual columns, and the drift about it."""

    name: str
    table_key: str
    kind: str
    """``table`` or ``view``"""
    jsonl_filename: str | None
    parquet_filename: str | None
    declared_columns: tuple[DescribedColumn, ...] | None
    """``None`` when no ``TableSchema`` is declared (views, undeclared tables)"""
    actual_columns: tuple[DescribedColumn, ...]
    """empty when the key is invalid or names nothing, or the view no longer binds"""
    drift: tuple[DriftItem, ...]
    description: str | None = None
    """the relation's comment (``COMMENT ON TABLE|VIEW``; dbt's ``persist_docs`` writes it)"""

    @property
    def column_comparison(self) -> tuple[ColumnComparison, ...]:
        """Declared columns in order with their actual type, then undeclared actual ones.

        Names match as DuckDB matches them (ASCII case folded only).
        """
        actual = {fold_name(c.name): c for c in self.actual_columns}
        rows = []
        for declared in self.declared_columns or ():
            column = actual.pop(fold_name(declared.name), None)
            rows.append(
                ColumnComparison(
                    declared.name,
                    declared.type,
                    None if column is None else column.type,
                    None if column is None else column.description,
                )
            )
        rows += [ColumnComparison(c.name, None, c.type, c.description) for c in actual.values()]
        return tuple(rows)

    def to_dict(self) -> dict[str, Any]:
        """The description as JSON-ready data (what ``ducksets show --format json`` prints).

        ``description`` (the relation's) only when there is one, as in the data package.
        """
        declared = self.declared_columns
        described = {"description": self.description} if self.description is not None else {}
        return {
            "name": self.name,
            "table_key": self.table_key,
            "kind": self.kind,
            **described,
            "jsonl_filename": self.jsonl_filename,
            "parquet_filename": self.parquet_filename,
            "declared_columns": None if declared is None else [c.to_dict() for c in declared],
            "actual_columns": [c.to_dict() for c in self.actual_columns],
            "drift": [{"drift": i.drift, "detail": i.detail} for i in self.drift],
        }

    def __repr__(self) -> str:
        declared = "undeclared" if self.declared_columns is None else "declared"
        drift = "no drift" if not self.drift else f"{len(self.drift)} drift item(s)"
        return (
            f"<DatasetDescription {self.name!r}: {self.kind} {self.table_key}, {declared}, "
            f"{len(self.actual_columns)} actual columns, {drift}>"
        )

    def _repr_html_(self) -> str:
        fields = html_table(
            ("field", "value"),
            [
                ("name", self.name),
                ("table_key", self.table_key),
                ("kind", self.kind),
                ("description", self.description),
                ("jsonl_filename", self.jsonl_filename),
                ("parquet_filename", self.parquet_filename),
            ],
            caption=f"dataset {self.name}",
        )
        columns = html_table(
            ("column", "declared_type", "actual_type", "description"),
            (
                (c.column, c.declared_type, c.actual_type, c.description)
                for c in self.column_comparison
            ),
            caption="columns",
        )
        drift = html_table(
            ("drift", "detail"),
            ((i.drift, i.detail) for i in self.drift),
            caption="drift" if self.drift else "drift: none",
        )
        return fields + columns + drift


def describe_dataset(
    con: duckdb.DuckDBPyConnection, name: str, *, pack_schema: str = PACK_SCHEMA
) -> DatasetDescription:
    """Describe the dataset ``name``: catalog row, declared and actual columns, drift.

    Nothing is written. A key that is invalid or names no relation has no
    actual columns; its drift items say why.

    Raises
    ------
    UnknownDatasetError
        No dataset is registered under ``name`` (``suggestions`` holds close names).
    CatalogMissingError
        The pack is not installed.
    PackIntegrityError
        A pack object is missing or changed; ``ducksets install DB`` repairs it.
    """
    dataset = load_dataset_registry(con, pack_schema=pack_schema).dataset_for_name(name)
    drift = catalog_drift(con, pack_schema=pack_schema)
    return DatasetDescription(
        name=dataset.name,
        table_key=dataset.table_key,
        kind=dataset.kind,
        jsonl_filename=dataset.jsonl_filename,
        parquet_filename=dataset.parquet_filename,
        declared_columns=_declared_columns(dataset),
        actual_columns=_actual_columns(con, dataset),
        drift=tuple(i for i in drift if i.table_key == dataset.table_key),
        description=dataset.description,
    )


def _declared_columns(dataset: Dataset) -> tuple[DescribedColumn, ...] | None:
    if dataset.schema is None:
        return None
    primary_key = dataset.schema.primary_key
    return tuple(
        DescribedColumn(c.name, c.type, c.nullable, c.name in primary_key)
        for c in dataset.schema.columns
    )


def _actual_columns(
    con: duckdb.DuckDBPyConnection, dataset: Dataset
) -> tuple[DescribedColumn, ...]:
    """The relation's columns and their comments; none if invalid, missing or failing."""
    try:
        key = parse_table_key(dataset.table_key)
    except InvalidTableKeyError:
        return ()
    relation = find_relation(con, key)  # never a file or another database's table
    if relation is None:
        return ()
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation.sql()}").fetchall()
    except duckdb.Error:
        return ()  # a view that no longer binds
    # A view's stored column names may differ in case from what it binds to now.
    comments = {fold_name(n): text for n, text in dataset.column_descriptions.items()}
    return tuple(
        DescribedColumn(r[0], r[1], r[2] != "NO", description=comments.get(fold_name(r[0])))
        for r in described
    )
