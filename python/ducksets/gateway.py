"""The gateway: one connection, the pack installed, declared datasets bootstrapped, a registry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from ducksets._transaction import transaction
from ducksets.catalog import (
    Dataset,
    DatasetRegistry,
    bootstrap_metadata_datasets,
    load_dataset_registry,
)
from ducksets.errors import SchemaError
from ducksets.keys import parse_table_key
from ducksets.pack import PACK_SCHEMA, install_macros
from ducksets.rowbinding import RowBinding
from ducksets.schema import TableSchema
from ducksets.sqltext import quote_identifier

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class StorageConfig:
    """Where the database is and what the application declares in it.

    Parameters
    ----------
    path
        Database file, or ``":memory:"``.
    read_only
        Open read-only: nothing is installed, created or registered.
    tables
        Declared base tables by table key; created if missing, then registered.
    views
        View definitions by table key (one ``SELECT`` each); created or replaced, then registered.
    jsonl, parquet, names
        Export filenames and dataset names by table key.
    row_bindings
        Row bindings by table key, attached to the registry's datasets.
    pack_schema
        The schema of the pack.
    duckdb_config
        Passed to ``duckdb.connect(config=...)``, such as
        ``{"storage_compatibility_version": "v1.0.0"}``.
    """

    path: str | Path = ":memory:"
    read_only: bool = False
    tables: Mapping[str, TableSchema] = field(default_factory=lambda: _EMPTY)
    views: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    jsonl: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    parquet: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    names: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    row_bindings: Mapping[str, RowBinding[Any]] = field(default_factory=lambda: _EMPTY)
    pack_schema: str = PACK_SCHEMA
    duckdb_config: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class GatewayDatasets:
    """The registry as the gateway's users see it: names, kinds, keys and filenames."""

    mapping: Mapping[str, str]
    """dataset name -> table key"""
    tables: tuple[str, ...]
    """names of base-table datasets"""
    views: tuple[str, ...]
    """names of view datasets"""
    meta: Mapping[str, Dataset]
    """dataset name -> Dataset"""
    jsonl_mapping: Mapping[str, str]
    """table key -> JSONL filename"""
    parquet_mapping: Mapping[str, str]
    """table key -> Parquet filename"""
    registry: DatasetRegistry = field(repr=False)

    @classmethod
    def from_registry(cls, registry: DatasetRegistry) -> GatewayDatasets:
        """The gateway view of a ``DatasetRegistry``."""
        by_name = registry.by_name
        return cls(
            mapping=MappingProxyType({n: d.table_key for n, d in by_name.items()}),
            tables=tuple(sorted(n for n, d in by_name.items() if not d.is_view)),
            views=tuple(sorted(n for n, d in by_name.items() if d.is_view)),
            meta=by_name,
            jsonl_mapping=registry.jsonl_datasets,
            parquet_mapping=registry.parquet_datasets,
            registry=registry,
        )

    @property
    def all_datasets(self) -> tuple[str, ...]:
        """Every dataset name: tables, then views."""
        return self.tables + self.views

    def resolve(self, name: str) -> str:
        """The table key of dataset ``name``; ``UnknownDatasetError`` suggests close names."""
        return self.registry.resolve_table_key(name)


class Gateway:
    """An open database with the pack and the registry of its datasets.

    A context manager: leaving the ``with`` block closes the connection.
    """

    def __init__(self, config: StorageConfig, con: duckdb.DuckDBPyConnection) -> None:
        self.config = config
        self.con = con
        self.datasets = self._load()

    def refresh(self) -> GatewayDatasets:
        """Re-read the catalog (after registering datasets, say) and return the new view."""
        self.datasets = self._load()
        return self.datasets

    def dataset(self, name: str) -> Dataset:
        """The ``Dataset`` called ``name``."""
        return self.datasets.registry.dataset_for_name(name)

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.config.read_only else "writable"
        return f"<Gateway {self.config.path!s} ({mode}), {len(self.datasets.mapping)} datasets>"

    def _load(self) -> GatewayDatasets:
        registry = load_dataset_registry(
            self.con,
            schemas=self.config.tables,
            row_bindings=self.config.row_bindings,
            pack_schema=self.config.pack_schema,
        )
        return GatewayDatasets.from_registry(registry)


def open_gateway(config: StorageConfig) -> Gateway:
    """Open the database of ``config`` and return its gateway.

    A writable gateway installs or upgrades the pack, creates declared tables
    that are missing and (re)creates declared views, and registers them all;
    a read-only one writes nothing and reads the catalog an earlier writable run left.

    Raises
    ------
    CatalogMissingError
        Read-only, and the database has no catalog.
    """
    con = duckdb.connect(
        str(config.path), read_only=config.read_only, config=dict(config.duckdb_config)
    )
    try:
        if not config.read_only:
            install_macros(con, schema=config.pack_schema)
            _create_declared(con, config)
            bootstrap_metadata_datasets(
                con,
                tables=config.tables,
                views=tuple(config.views),
                jsonl=config.jsonl,
                parquet=config.parquet,
                names=config.names,
                pack_schema=config.pack_schema,
            )
        return Gateway(config, con)
    except BaseException:
        con.close()
        raise


def open_memory_gateway(**declarations: Any) -> Gateway:
    """A writable gateway on a new in-memory database; keywords as for ``StorageConfig``."""
    return open_gateway(StorageConfig(":memory:", **declarations))


def _create_declared(con: duckdb.DuckDBPyConnection, config: StorageConfig) -> None:
    keys = [parse_table_key(k) for k in (*config.tables, *config.views)]
    with transaction(con, "open_gateway"):
        for schema_key in sorted({(k.database, k.schema) for k in keys}, key=str):
            database, schema = schema_key
            name = ".".join(quote_identifier(p) for p in (database, schema) if p is not None)
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")
        for table_key, table_schema in config.tables.items():
            con.execute(table_schema.create_table_sql(table_key))
        for view_key, select_sql in config.views.items():
            con.execute(create_view_sql(view_key, select_sql))


def create_view_sql(view_key: str, select_sql: str) -> str:
    """``CREATE OR REPLACE VIEW <quoted key> AS <select>``, checking the body is one query.

    Raises
    ------
    SchemaError
        ``select_sql`` is not exactly one SELECT (or other query) statement.
    """
    try:
        statements = sqlglot.parse(select_sql, read="duckdb")
    except ParseError as exc:
        msg = f"view {view_key}: its SQL does not parse ({str(exc).splitlines()[0]})"
        raise SchemaError(msg) from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        msg = f"view {view_key}: give exactly one SELECT statement as its definition"
        raise SchemaError(msg)
    # The user's own query text is kept as written; only the key is built by us.
    return f"CREATE OR REPLACE VIEW {parse_table_key(view_key).sql()} AS {select_sql}"
