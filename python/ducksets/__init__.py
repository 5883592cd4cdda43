"""ducksets: a DuckDB dataset catalog, as a SQL macro pack and its typed Python binding."""

from __future__ import annotations

from ducksets.catalog import (
    Dataset,
    DatasetRegistry,
    SyncReport,
    bootstrap_metadata_datasets,
    load_dataset_registry,
    register_dataset,
    sync_catalog,
    unregister_dataset,
)
from ducksets.errors import (
    CatalogMissingError,
    DucksetsError,
    InvalidTableKeyError,
    PackError,
    PackVersionError,
    ReadOnlyDatabaseError,
    RowValidationError,
    SchemaError,
    UnknownDatasetError,
)
from ducksets.gateway import (
    Gateway,
    GatewayDatasets,
    StorageConfig,
    open_gateway,
    open_memory_gateway,
)
from ducksets.keys import TableKey, parse_table_key
from ducksets.lint import Diagnostic, check_catalog_keys, lint_pack
from ducksets.pack import (
    PACK_SCHEMA,
    InstallResult,
    PackFile,
    install_macros,
    installed_version,
    pack_files,
    pack_script,
    pack_version,
)
from ducksets.rowbinding import RowBinding, insert_rows
from ducksets.schema import Column, TableSchema

__version__ = pack_version()

__all__ = [
    "PACK_SCHEMA",
    "CatalogMissingError",
    "Column",
    "Dataset",
    "DatasetRegistry",
    "Diagnostic",
    "DucksetsError",
    "Gateway",
    "GatewayDatasets",
    "InstallResult",
    "InvalidTableKeyError",
    "PackError",
    "PackFile",
    "PackVersionError",
    "ReadOnlyDatabaseError",
    "RowBinding",
    "RowValidationError",
    "SchemaError",
    "StorageConfig",
    "SyncReport",
    "TableKey",
    "TableSchema",
    "UnknownDatasetError",
    "__version__",
    "bootstrap_metadata_datasets",
    "check_catalog_keys",
    "insert_rows",
    "install_macros",
    "installed_version",
    "lint_pack",
    "load_dataset_registry",
    "open_gateway",
    "open_memory_gateway",
    "pack_files",
    "pack_script",
    "pack_version",
    "parse_table_key",
    "register_dataset",
    "sync_catalog",
    "unregister_dataset",
]
