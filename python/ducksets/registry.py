"""The typed mirror of ``metadata.datasets``: datasets, the registry, and reading the catalog.

DuckDB's catalog is the source of truth. Python adds what only Python can know
(declared ``TableSchema``s and ``RowBinding``s). Every read here asks the
catalog as it is now.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import duckdb

from ducksets._args import require_connection, require_mapping, require_str
from ducksets._html import html_table
from ducksets._query import fetch_one
from ducksets.errors import (
    CatalogMissingError,
    DucksetsError,
    UnknownDatasetError,
)
from ducksets.keys import TableKey, parse_table_key
from ducksets.pack import PACK_SCHEMA
from ducksets.rowbinding import RowBinding
from ducksets.schema import Column, TableSchema
from ducksets.sqltext import qualified_name


@dataclass(frozen=True)
class Dataset:
    """One catalog row, with the Python-only schema and row binding layered on."""

    table_key: str
    name: str
    schema: TableSchema | None
    row_binding: RowBinding[Any] | None = None
    jsonl_filename: str | None = None
    parquet_filename: str | None = None
    is_view: bool = False

    @property
    def key(self) -> TableKey:
        """The parsed table key."""
        return parse_table_key(self.table_key)

    @property
    def kind(self) -> str:
        """``view`` or ``table``."""
        return "view" if self.is_view else "table"

    def __repr__(self) -> str:
        declared = "undeclared" if self.schema is None else f"{len(self.schema.columns)} columns"
        files = ", ".join(f for f in (self.jsonl_filename, self.parquet_filename) if f) or "-"
        return f"<Dataset {self.name!r}: {self.kind} {self.table_key}, {declared}; files: {files}>"

    def _repr_html_(self) -> str:
        rows = [
            ("name", self.name),
            ("table_key", self.table_key),
            ("kind", self.kind),
            ("jsonl_filename", self.jsonl_filename),
            ("parquet_filename", self.parquet_filename),
        ]
        if self.schema is not None:
            rows += [(f"column {c.name}", _column_text(c)) for c in self.schema.columns]
        return html_table(("field", "value"), rows, caption=f"dataset {self.name}")


@dataclass(frozen=True)
class DatasetRegistry:
    """All datasets of a catalog, by name and by table key, with export filenames."""

    by_name: Mapping[str, Dataset]
    by_table_key: Mapping[str, Dataset]
    jsonl_datasets: Mapping[str, str]
    """table_key -> JSONL filename, for datasets that have one."""
    parquet_datasets: Mapping[str, str]
    """table_key -> Parquet filename, for datasets that have one."""
    _by_key: Mapping[TableKey, Dataset] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_datasets(cls, datasets: Iterable[Dataset]) -> DatasetRegistry:
        """Index datasets by name and key, and collect their filenames."""
        ordered = sorted(datasets, key=lambda d: d.table_key)
        return cls(
            by_name=MappingProxyType({d.name: d for d in ordered}),
            by_table_key=MappingProxyType({d.table_key: d for d in ordered}),
            jsonl_datasets=MappingProxyType(
                {d.table_key: d.jsonl_filename for d in ordered if d.jsonl_filename}
            ),
            parquet_datasets=MappingProxyType(
                {d.table_key: d.parquet_filename for d in ordered if d.parquet_filename}
            ),
            _by_key=MappingProxyType(
                {key: d for d in ordered if (key := key_or_none(d.table_key)) is not None}
            ),
        )

    @property
    def all_datasets(self) -> tuple[str, ...]:
        """Every dataset name, sorted."""
        return tuple(sorted(self.by_name))

    def __repr__(self) -> str:
        views = sum(d.is_view for d in self.by_name.values())
        tables = len(self.by_name) - views
        return f"<DatasetRegistry: {tables} tables, {views} views>"

    def _repr_html_(self) -> str:
        rows = (
            (d.name, d.table_key, d.kind, d.jsonl_filename, d.parquet_filename)
            for d in sorted(self.by_name.values(), key=lambda d: d.name)
        )
        columns = ("name", "table_key", "kind", "jsonl_filename", "parquet_filename")
        return html_table(columns, rows, caption=repr(self).strip("<>"))

    def dataset_for_name(self, name: str) -> Dataset:
        """The dataset called ``name``; ``UnknownDatasetError`` suggests close names."""
        dataset = self.by_name.get(name)
        if dataset is None:
            raise unknown_dataset(name, self.by_name)
        return dataset

    def dataset_for_table(self, table_key: str | TableKey) -> Dataset:
        """The dataset of a table key (compared as DuckDB does, ignoring case)."""
        key = table_key if isinstance(table_key, TableKey) else parse_table_key(table_key)
        dataset = self._by_key.get(key)
        if dataset is None:
            known = [str(k) for k in self._by_key]
            raise unknown_dataset(str(key), known, "table key")
        return dataset

    def resolve_table_key(self, name: str) -> str:
        """The table key of the dataset called ``name``."""
        return self.dataset_for_name(name).table_key


def _column_text(column: Column) -> str:
    return column.type + ("" if column.nullable else " NOT NULL")


def unknown_dataset(name: str, known: Iterable[str], what: str = "dataset") -> UnknownDatasetError:
    """``no dataset 'x'; did you mean 'y'?`` (or where to list them), close names as fields."""
    close = tuple(difflib.get_close_matches(name, list(known), n=3, cutoff=0.6))
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    else:
        hint = "list them with: ducksets datasets DB (or FROM metadata.datasets)"
    return UnknownDatasetError(f"no {what} {name!r}; {hint}", name=name, suggestions=close)


def catalog_table(pack_schema: str, table: str) -> str:
    """The quoted name of a pack table (``metadata.datasets``) in the current database."""
    return qualified_name(pack_schema, table)


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
    # integrity imports lint (sqlglot rules); import it when a catalog is read.
    from ducksets.errors import CatalogShapeError
    from ducksets.integrity import repair_command, table_problems

    require_connection("con", con)
    require_str("pack_schema", pack_schema, what="a schema name")
    catalog = {qualified_name(pack_schema, t) for t in ("datasets", "dataset_columns")}
    problems = [p for p in table_problems(con, pack_schema=pack_schema) if p.obj in catalog]
    if any(p.missing for p in problems):
        msg = (
            f"no ducksets catalog in schema {pack_schema!r} (or an old pack without "
            f"dataset_columns); run install_macros(con) or: {repair_command(con)}"
        )
        raise CatalogMissingError(msg)
    if problems:
        raise CatalogShapeError(problems[0].text, table=problems[0].obj)


def load_dataset_registry(
    con: duckdb.DuckDBPyConnection,
    *,
    schemas: Mapping[str, TableSchema] | None = None,
    row_bindings: Mapping[str, RowBinding[Any]] | None = None,
    pack_schema: str = PACK_SCHEMA,
) -> DatasetRegistry:
    """Read the catalog into a ``DatasetRegistry``, in one query.

    Parameters
    ----------
    con
        A connection whose database has the pack installed.
    schemas
        Declared table schemas by table key; where none is given, the columns
        declared in ``metadata.dataset_columns`` are used. A base table with
        neither gets ``schema=None``: drift, not a crash.
    row_bindings
        Row bindings by table key.
    pack_schema
        The schema the pack is installed in.

    Raises
    ------
    CatalogMissingError
        The pack is not installed.
    ArgumentTypeError
        ``con`` is not a connection, or ``schemas``/``row_bindings`` not mappings.
    """
    require_connection("con", con)
    require_mapping("schemas", schemas, TableSchema)
    require_mapping("row_bindings", row_bindings, RowBinding)
    require_catalog(con, pack_schema)
    declared = {parse_table_key(k): s for k, s in (schemas or {}).items()}
    bindings = {parse_table_key(k): b for k, b in (row_bindings or {}).items()}
    rows = con.execute(
        f"""
        SELECT
            d.table_key, d.name, d.is_view, d.jsonl_filename, d.parquet_filename,
            list(
                struct_pack(name := c.column_name, type := c.declared_type,
                            nullable := c.is_nullable, pk := c.pk_position)
                ORDER BY c.ordinal
            ) FILTER (WHERE c.column_name IS NOT NULL)
        FROM {catalog_table(pack_schema, "datasets")} AS d
        LEFT JOIN {catalog_table(pack_schema, "dataset_columns")} AS c
            ON c.table_key = d.table_key
        GROUP BY ALL
        ORDER BY d.table_key
        """
    ).fetchall()
    datasets = []
    for table_key, name, is_view, jsonl, parquet, stored_columns in rows:
        # A row with an invalid key (written by SQL) stays visible: drift reports it.
        key = key_or_none(table_key)
        python_schema = declared.get(key) if key is not None else None
        schema = None if is_view else python_schema or _stored_schema(stored_columns)
        binding = bindings.get(key) if key is not None else None
        datasets.append(Dataset(table_key, name, schema, binding, jsonl, parquet, bool(is_view)))
    return DatasetRegistry.from_datasets(datasets)


def _stored_schema(stored: list[dict[str, Any]] | None) -> TableSchema | None:
    if not stored:
        return None
    columns = tuple(Column(c["name"], c["type"], bool(c["nullable"])) for c in stored)
    in_key = sorted((c["pk"], c["name"]) for c in stored if c["pk"] is not None)
    return TableSchema(columns, tuple(name for _, name in in_key))


def lookup_table_key(
    con: duckdb.DuckDBPyConnection, name: str, *, pack_schema: str = PACK_SCHEMA
) -> str:
    """The table key of the dataset called ``name``, read from the catalog as it is now.

    One query on the catalog's unique index of names, so a dataset registered
    by another connection a moment ago is found.

    Raises
    ------
    UnknownDatasetError
        No dataset has that name; the message suggests close names.
    ArgumentTypeError, InvalidArgumentError
        ``con`` is not a connection, or ``name`` is not a string or is empty.
    CatalogMissingError
        The pack is not installed.
    """
    require_connection("con", con)
    require_str("name", name, what="a dataset name")
    require_str("pack_schema", pack_schema, what="a schema name")
    datasets = catalog_table(pack_schema, "datasets")
    try:
        row = fetch_one(con, f"SELECT table_key FROM {datasets} WHERE name = ?", [name])
    except duckdb.CatalogException as exc:
        # The only object named here is the catalog table (the caller's
        # transaction, if any, is aborted now, so no second query).
        msg = (
            f"no ducksets catalog in schema {pack_schema!r}; "
            "run install_macros(con) or: ducksets install DB"
        )
        raise CatalogMissingError(msg) from exc
    if row is None:
        known = [r[0] for r in con.execute(f"SELECT name FROM {datasets}").fetchall()]
        raise unknown_dataset(name, known)
    return str(row[0])


def key_or_none(table_key: str) -> TableKey | None:
    """The parsed key, or ``None`` for a key that does not parse (a catalog row written by SQL)."""
    try:
        return parse_table_key(table_key)
    except DucksetsError:
        return None
