"""The gateway: one connection, the pack installed, declared datasets bootstrapped, a registry."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

import duckdb

from ducksets._args import require_bool, require_path, require_str
from ducksets._catalog_check import require_intact_pack
from ducksets._connect import connect
from ducksets._introspect import use_statement
from ducksets._transaction import transaction
from ducksets.catalog import bootstrap_metadata_datasets
from ducksets.errors import ArgumentTypeError, GatewayClosedError, SchemaError, first_line
from ducksets.keys import parse_table_key
from ducksets.pack import PACK_SCHEMA, install_macros
from ducksets.registry import (
    Dataset,
    DatasetRegistry,
    load_dataset_registry,
    read_registry,
)
from ducksets.rowbinding import RowBinding
from ducksets.schema import TableSchema
from ducksets.sqltext import quote_identifier

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_CLOSE_SECONDS = 10.0


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

    def __post_init__(self) -> None:
        # Checked here, before anything is opened: StorageConfig(None) would
        # otherwise create a file "./None", and "" would open a memory database.
        require_path("path", self.path, hint='give a database file, or ":memory:" for memory')
        require_bool("read_only", self.read_only)
        require_str("pack_schema", self.pack_schema, what="a schema name")
        for parameter in ("tables", "views", "jsonl", "parquet", "names", "row_bindings"):
            _require_mapping(parameter, getattr(self, parameter))
        _require_mapping("duckdb_config", self.duckdb_config)


class Gateway:
    """An open database with the pack and the registry of its datasets.

    ``datasets`` is the ``DatasetRegistry`` read when the gateway opened (or
    at the last ``refresh()``). A context manager: leaving the ``with`` block
    closes the connection.
    """

    def __init__(
        self, config: StorageConfig, con: duckdb.DuckDBPyConnection, *, _checked: bool = False
    ) -> None:
        self.config = config
        self.con = con
        self.closed = False
        """``close()`` was called: a read failing from now on failed because of it."""
        self._use = use_statement(con)
        # open_gateway has checked the whole pack, the catalog tables with it.
        self.datasets: DatasetRegistry = self._load(checked=_checked)

    def refresh(self) -> DatasetRegistry:
        """Re-read the catalog (after registering datasets, say) and return the new registry."""
        self.datasets = self._load()
        return self.datasets

    def dataset(self, name: str) -> Dataset:
        """The ``Dataset`` called ``name``; the catalog is re-read when the name is new to it.

        Raises
        ------
        UnknownDatasetError
            The catalog, as it is now, has no dataset of that name.
        """
        require_str("name", name, what="a dataset name")
        if name not in self.datasets.by_name:
            self.refresh()  # registered after the gateway opened, perhaps by another process
        return self.datasets.dataset_for_name(name)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor of the gateway's connection: one per thread or call, closed after use.

        One DuckDB connection runs one statement at a time and holds one
        result, so threads sharing the gateway each read through their own cursor.

        Raises
        ------
        GatewayClosedError
            The gateway was closed.
        """
        try:
            cursor = self.con.cursor()
        except duckdb.ConnectionException as exc:
            msg = f"the gateway on {self.config.path} is closed; open a new one with open_gateway"
            raise GatewayClosedError(msg) from exc
        if self._use is not None:
            cursor.execute(self._use)
        return cursor

    def close(self) -> None:
        """Close the connection; safe while other threads read through the gateway.

        Their calls then raise ``GatewayClosedError``.
        """
        self.closed = True
        deadline = time.monotonic() + _CLOSE_SECONDS
        while True:
            try:
                self.con.close()
                return
            except duckdb.ResourceInUseException:
                # Another thread's call is running: DuckDB refuses rather than
                # waits (it has closed the connection for new calls already).
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

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
        return f"<Gateway {self.config.path!s} ({mode}), {len(self.datasets.by_name)} datasets>"

    def _load(self, *, checked: bool = False) -> DatasetRegistry:
        # A cursor of its own, so a refresh from one thread never clashes with
        # a read of another on the shared connection.
        cursor = self.cursor()
        read = read_registry if checked else load_dataset_registry
        try:
            return read(
                cursor,
                schemas=self.config.tables,
                row_bindings=self.config.row_bindings,
                pack_schema=self.config.pack_schema,
            )
        finally:
            cursor.close()


def open_gateway(config: StorageConfig) -> Gateway:
    """Open the database of ``config`` and return its gateway.

    A writable gateway installs or upgrades the pack, creates declared tables
    that are missing and (re)creates declared views, and registers them all;
    a read-only one writes nothing and reads the catalog an earlier writable run left.

    The connection never downloads an extension (``autoinstall_known_extensions``
    is off), and a path that is not a DuckDB database file is refused.

    Raises
    ------
    ArgumentTypeError
        ``config`` is not a ``StorageConfig``.
    NotADatabaseError
        The path is a directory or a file that is not a DuckDB database.
    CatalogMissingError
        Read-only, and the database has no catalog.
    PackIntegrityError
        A pack object is missing or changed (``ducksets install DB`` repairs it), or a
        user macro shadows a DuckDB builtin the pack calls.
    """
    if not isinstance(config, StorageConfig):
        msg = f"config must be a StorageConfig, not {type(config).__name__} {config!r}"
        raise ArgumentTypeError(msg, parameter="config", value=config)
    con = connect(config.path, read_only=config.read_only, config=dict(config.duckdb_config))
    try:
        if not config.read_only:
            install_macros(con, pack_schema=config.pack_schema)
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
        # The pack's macros run only once they are verified as the pack's own:
        # a writable open has just (re)installed them, but a user macro that
        # shadows a DuckDB builtin they call survives any install. The catalog
        # tables' errors (CatalogMissingError, ...) come first, as a registry
        # read gives them.
        require_intact_pack(con, config.pack_schema)
        return Gateway(config, con, _checked=True)
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
    # sqlglot takes longer to import than most CLI verbs take to run: only here.
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        statements = sqlglot.parse(select_sql, read="duckdb")
    except ParseError as exc:
        msg = f"view {view_key}: its SQL does not parse ({first_line(exc)})"
        raise SchemaError(msg) from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        msg = f"view {view_key}: give exactly one SELECT statement as its definition"
        raise SchemaError(msg)
    # The user's own query text is kept as written; only the key is built by us.
    return f"CREATE OR REPLACE VIEW {parse_table_key(view_key).sql()} AS {select_sql}"


def __getattr__(name: str) -> Any:
    return deprecated_name(__name__, name)


def deprecated_name(module: str, name: str) -> Any:
    """The object a deprecated public name of ``module`` stands for, with a DeprecationWarning.

    Each name is kept for one release after its rename.
    """
    if name == "GatewayDatasets":
        msg = (
            f"{module}.GatewayDatasets is deprecated and will be removed in the next release; "
            "use ducksets.DatasetRegistry (gateway.datasets is one)"
        )
        warnings.warn(msg, DeprecationWarning, stacklevel=3)
        return DatasetRegistry
    msg = f"module {module!r} has no attribute {name!r}"
    raise AttributeError(msg)


def _require_mapping(parameter: str, value: object) -> None:
    # views may also be given as a tuple of keys elsewhere; here it maps key -> SELECT.
    if not isinstance(value, Mapping):
        msg = f"{parameter} must be a mapping keyed by table key, not {type(value).__name__}"
        raise ArgumentTypeError(msg, parameter=parameter, value=value)
