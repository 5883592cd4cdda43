"""The typed mirror of ``metadata.datasets``: datasets, the registry, and reading the catalog.

DuckDB's catalog is the source of truth. Python adds what only Python can know
(declared ``TableSchema``s and ``RowBinding``s). Every read here asks the
catalog as it is now.
"""

from __future__ import annotations

import difflib
import gc
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from types import MappingProxyType
from typing import Any, TypeVar

import duckdb

from ducksets._args import require_bool, require_connection, require_mapping, require_str
from ducksets._catalog_check import require_catalog
from ducksets._comments import NO_COLUMN_COMMENTS, Comments, catalog_comments
from ducksets._html import html_table
from ducksets._key_index import KeyIndex
from ducksets._key_index import key_or_none as key_or_none  # the catalog modules' import
from ducksets._names import fold_name
from ducksets._query import fetch_one
from ducksets.errors import (
    CatalogMissingError,
    UnknownDatasetError,
)
from ducksets.keys import TableKey, parse_table_key
from ducksets.pack import PACK_SCHEMA
from ducksets.rowbinding import RowBinding
from ducksets.schema import Column, TableSchema
from ducksets.sqltext import qualified_name

_T = TypeVar("_T")


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
    description: str | None = None
    """the relation's comment (``COMMENT ON TABLE|VIEW``), ``None`` when it has none"""
    column_descriptions: Mapping[str, str] = field(default=NO_COLUMN_COMMENTS, hash=False)
    """column name -> ``COMMENT ON COLUMN`` text, in column order; only commented columns"""

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
            ("description", self.description),
            ("jsonl_filename", self.jsonl_filename),
            ("parquet_filename", self.parquet_filename),
        ]
        rows += [(f"column {name}", text) for name, text in self._column_texts()]
        return html_table(("field", "value"), rows, caption=f"dataset {self.name}")

    def _column_texts(self) -> list[tuple[str, str]]:
        """Declared columns with type and description, then commented columns not declared."""
        described = {fold_name(n): (n, d) for n, d in self.column_descriptions.items()}
        texts = []
        for column in self.schema.columns if self.schema is not None else ():
            _, description = described.pop(fold_name(column.name), (None, None))
            suffix = f" -- {description}" if description else ""
            texts.append((column.name, _column_text(column) + suffix))
        return texts + list(described.values())


@dataclass(frozen=True)
class DatasetRegistry:
    """All datasets of a catalog: by name, by table key, their kinds and export filenames.

    One order everywhere: whatever is keyed or listed by dataset name
    (``by_name``, ``mapping``, ``tables``, ``views``, ``all_datasets``) is in
    name order; whatever is keyed by table key (``by_table_key``,
    ``jsonl_mapping``, ``parquet_mapping``) is in table-key order. Both are
    Python's string order, so the same catalog always lists the same way.

    A gateway's ``gateway.datasets`` is one of these.
    """

    by_name: Mapping[str, Dataset]
    """dataset name -> Dataset"""
    by_table_key: Mapping[str, Dataset]
    """table key (as written in the catalog) -> Dataset"""

    @classmethod
    def from_datasets(cls, datasets: Iterable[Dataset]) -> DatasetRegistry:
        """Index datasets by name and by table key."""
        by_key = sorted(datasets, key=attrgetter("table_key"))
        return cls(
            by_name=MappingProxyType({d.name: d for d in sorted(by_key, key=attrgetter("name"))}),
            by_table_key=MappingProxyType({d.table_key: d for d in by_key}),
        )

    # The views below are built on first use: a registry of a million
    # datasets is read to look one up far more often than to list them all.

    @cached_property
    def jsonl_mapping(self) -> Mapping[str, str]:
        """Table key -> JSONL filename, for datasets that have one, in table-key order."""
        items = self.by_table_key.items()
        return MappingProxyType({k: d.jsonl_filename for k, d in items if d.jsonl_filename})

    @cached_property
    def parquet_mapping(self) -> Mapping[str, str]:
        """Table key -> Parquet filename, for datasets that have one, in table-key order."""
        items = self.by_table_key.items()
        return MappingProxyType({k: d.parquet_filename for k, d in items if d.parquet_filename})

    @cached_property
    def mapping(self) -> Mapping[str, str]:
        """Dataset name -> table key, in name order."""
        return MappingProxyType({n: d.table_key for n, d in self.by_name.items()})

    @cached_property
    def tables(self) -> tuple[str, ...]:
        """Names of the base-table datasets, in name order."""
        return tuple(n for n, d in self.by_name.items() if not d.is_view)

    @cached_property
    def views(self) -> tuple[str, ...]:
        """Names of the view datasets, in name order."""
        return tuple(n for n, d in self.by_name.items() if d.is_view)

    @property
    def all_datasets(self) -> tuple[str, ...]:
        """Every dataset name, in name order (tables and views together)."""
        return tuple(self.by_name)

    def __repr__(self) -> str:
        return f"<DatasetRegistry: {len(self.tables)} tables, {len(self.views)} views>"

    def _repr_html_(self) -> str:
        rows = (
            (d.name, d.table_key, d.kind, d.description, d.jsonl_filename, d.parquet_filename)
            for d in self.by_name.values()
        )
        columns = ("name", "table_key", "kind", "description", "jsonl_filename", "parquet_filename")
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
            raise unknown_dataset(str(key), self.by_table_key, "table key")
        return dataset

    def resolve(self, name: str) -> str:
        """The table key of the dataset called ``name``.

        Raises
        ------
        UnknownDatasetError
            No dataset has that name; ``suggestions`` holds close names.
        """
        return self.dataset_for_name(name).table_key

    def resolve_table_key(self, name: str) -> str:
        """The table key of the dataset called ``name`` (the same as ``resolve``)."""
        return self.resolve(name)

    @cached_property
    def _by_key(self) -> KeyIndex[Dataset]:
        # Built on the first lookup by key, without parsing every key.
        return KeyIndex(self.by_table_key.items())

    # Deprecated names, kept for one release (GatewayDatasets was merged into this class).

    @property
    def jsonl_datasets(self) -> Mapping[str, str]:
        """Deprecated: ``jsonl_mapping``."""
        _deprecated("DatasetRegistry.jsonl_datasets", "DatasetRegistry.jsonl_mapping")
        return self.jsonl_mapping

    @property
    def parquet_datasets(self) -> Mapping[str, str]:
        """Deprecated: ``parquet_mapping``."""
        _deprecated("DatasetRegistry.parquet_datasets", "DatasetRegistry.parquet_mapping")
        return self.parquet_mapping

    @property
    def meta(self) -> Mapping[str, Dataset]:
        """Deprecated: ``by_name``."""
        _deprecated("GatewayDatasets.meta", "DatasetRegistry.by_name")
        return self.by_name

    @property
    def registry(self) -> DatasetRegistry:
        """Deprecated: the registry itself (``gateway.datasets`` is the registry now)."""
        _deprecated("GatewayDatasets.registry", "gateway.datasets (a DatasetRegistry) itself")
        return self

    @classmethod
    def from_registry(cls, registry: DatasetRegistry) -> DatasetRegistry:
        """Deprecated: ``registry`` itself (``GatewayDatasets`` is ``DatasetRegistry`` now)."""
        _deprecated("GatewayDatasets.from_registry(registry)", "the DatasetRegistry itself")
        return registry


def _deprecated(old: str, new: str) -> None:
    msg = f"{old} is deprecated and will be removed in the next release; use {new}"
    warnings.warn(msg, DeprecationWarning, stacklevel=3)


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


def load_dataset_registry(
    con: duckdb.DuckDBPyConnection,
    *,
    schemas: Mapping[str, TableSchema] | None = None,
    row_bindings: Mapping[str, RowBinding[Any]] | None = None,
    pack_schema: str = PACK_SCHEMA,
    descriptions: bool = True,
) -> DatasetRegistry:
    """Read the catalog into a ``DatasetRegistry``, with the relations' comments as descriptions.

    Time grows linearly with the catalog: no catalog key is parsed unless it
    may match a key of ``schemas`` or ``row_bindings``, or name a relation
    that has a comment.

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
    descriptions
        Read the comments (``COMMENT ON``) of the datasets' relations and
        columns into ``Dataset.description`` and ``column_descriptions``. That
        costs one scan of DuckDB's catalog of relations and columns, which
        can take longer than the rest in a database of many thousand tables;
        ``False`` skips it (descriptions stay ``None``/empty).

    Raises
    ------
    CatalogMissingError
        The pack is not installed.
    ArgumentTypeError
        ``con`` is not a connection, ``schemas``/``row_bindings`` not mappings,
        or ``descriptions`` not a bool.
    """
    require_connection("con", con)
    require_mapping("schemas", schemas, TableSchema)
    require_mapping("row_bindings", row_bindings, RowBinding)
    require_bool("descriptions", descriptions)
    require_catalog(con, pack_schema)
    return read_registry(
        con,
        schemas=schemas,
        row_bindings=row_bindings,
        pack_schema=pack_schema,
        descriptions=descriptions,
    )


def read_registry(
    con: duckdb.DuckDBPyConnection,
    *,
    schemas: Mapping[str, TableSchema] | None = None,
    row_bindings: Mapping[str, RowBinding[Any]] | None = None,
    pack_schema: str = PACK_SCHEMA,
    descriptions: bool = True,
) -> DatasetRegistry:
    """``load_dataset_registry`` for a caller that has checked the arguments and the catalog."""
    declared = KeyIndex(_checked_keys(schemas))
    bindings = KeyIndex(_checked_keys(row_bindings))
    with _collector_paused():
        datasets = _datasets(con, pack_schema, declared, bindings)
        if descriptions:
            datasets = _described(catalog_comments(con, pack_schema), datasets)
        return DatasetRegistry.from_datasets(datasets)


def _described(found: Mapping[str, Comments], datasets: list[Dataset]) -> list[Dataset]:
    """``datasets`` with their relations' comments; a new object only where there is one."""
    if not found:
        return datasets
    return [_commented(d, c) if (c := found.get(d.table_key)) else d for d in datasets]


def _commented(dataset: Dataset, comments: Comments) -> Dataset:
    """``dataclasses.replace`` with the comments, at ``_catalog_dataset``'s speed."""
    commented = _new_object(Dataset)
    commented.__dict__.update(
        dataset.__dict__, description=comments.table, column_descriptions=comments.columns
    )
    return commented


def _datasets(
    con: duckdb.DuckDBPyConnection,
    pack_schema: str,
    declared: KeyIndex[TableSchema],
    bindings: KeyIndex[RowBinding[Any]],
) -> list[Dataset]:
    # Per-row calls are what a million rows cost, so empty lookups are skipped
    # (is_view is a NOT NULL BOOLEAN: DuckDB gives True or False).
    any_declared, any_bound = bool(declared), bool(bindings)
    return [
        _catalog_dataset(
            table_key,
            name,
            None
            if is_view
            else (declared.get(table_key) if any_declared else None)
            or (_stored_schema(stored) if stored else None),
            bindings.get(table_key) if any_bound else None,
            jsonl,
            parquet,
            is_view is True,
        )
        for table_key, name, is_view, jsonl, parquet, stored in _catalog_rows(con, pack_schema)
    ]


def _catalog_dataset(
    table_key: str,
    name: str,
    schema: TableSchema | None,
    row_binding: RowBinding[Any] | None,
    jsonl_filename: str | None,
    parquet_filename: str | None,
    is_view: bool,
) -> Dataset:
    """``Dataset(...)`` of a catalog row, without the generated ``__init__``.

    A frozen dataclass sets each field through ``object.__setattr__``: the two
    description fields alone made 100k datasets 10% slower to build
    (measured). Here they keep their class defaults until ``_described``
    replaces the few datasets that have one.
    """
    dataset = _new_object(Dataset)
    dataset.__dict__.update(
        table_key=table_key,
        name=name,
        schema=schema,
        row_binding=row_binding,
        jsonl_filename=jsonl_filename,
        parquet_filename=parquet_filename,
        is_view=is_view,
    )
    return dataset


_new_object = object.__new__


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a registry is built.

    Its full collections walk every live object, and building a million
    datasets triggers several: 1.5x the time with it on (measured), growing
    faster than the catalog. A registry holds no reference cycles, so nothing
    is left for it to collect. Re-enabled only when this call paused it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _catalog_rows(con: duckdb.DuckDBPyConnection, pack_schema: str) -> list[tuple[Any, ...]]:
    """Each catalog row with its declared columns (a list of structs, ``NULL`` when none)."""
    return con.execute(
        f"""
        SELECT
            d.table_key, d.name, d.is_view, d.jsonl_filename, d.parquet_filename, c.declared
        FROM {catalog_table(pack_schema, "datasets")} AS d
        LEFT JOIN (
            -- grouped by the one key before the join: 1.5x faster at 1M datasets
            SELECT
                table_key,
                list(
                    struct_pack(name := column_name, type := declared_type,
                                nullable := is_nullable, pk := pk_position)
                    ORDER BY ordinal
                ) AS declared
            FROM {catalog_table(pack_schema, "dataset_columns")}
            GROUP BY table_key
        ) AS c ON c.table_key = d.table_key
        ORDER BY d.table_key
        """
    ).fetchall()


def _checked_keys(given: Mapping[str, _T] | None) -> Iterator[tuple[str, _T]]:
    """The items of a mapping keyed by table key, each key checked (``InvalidTableKeyError``)."""
    for text, value in (given or {}).items():
        parse_table_key(text)
        yield text, value


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
