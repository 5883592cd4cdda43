"""ducksets: a DuckDB dataset catalog, as a SQL macro pack and its typed Python binding."""

from __future__ import annotations

from typing import Any

from ducksets.catalog import bootstrap_metadata_datasets, register_dataset, unregister_dataset
from ducksets.counts import RowCount, count_dataset_rows, count_datasets
from ducksets.describe import DatasetDescription, describe_dataset
from ducksets.drift import DriftItem, DriftReport, catalog_drift
from ducksets.errors import (
    ArgumentTypeError,
    CatalogConflictError,
    CatalogMissingError,
    CatalogShapeError,
    ConfigError,
    DatabaseLockedError,
    DatasetUnreadableError,
    DucksetsError,
    ExportError,
    GatewayClosedError,
    InvalidArgumentError,
    InvalidFilenameError,
    InvalidTableKeyError,
    NotADatabaseError,
    PackError,
    PackIntegrityError,
    PackVersionError,
    ReadOnlyDatabaseError,
    RelationMissingError,
    RowValidationError,
    SchemaError,
    TransactionOpenError,
    UnknownDatasetError,
)
from ducksets.export import (
    ExportedFile,
    ExportFailure,
    ExportResult,
    export_all_jsonl,
    export_all_parquet,
    export_dataset_to_jsonl,
    export_dataset_to_parquet,
    export_datasets,
    write_dataset_manifest,
)
from ducksets.gateway import (
    Gateway,
    StorageConfig,
    deprecated_name,
    open_gateway,
    open_memory_gateway,
)
from ducksets.integrity import require_pack, verify_pack
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
from ducksets.registry import Dataset, DatasetRegistry, load_dataset_registry, lookup_table_key
from ducksets.relation import dataset_relation
from ducksets.rowbinding import RowBinding, insert_rows
from ducksets.rows import (
    BackendLimits,
    DatasetQueryService,
    DatasetRowsResponse,
    Message,
    ResponseMeta,
)
from ducksets.schema import Column, TableSchema
from ducksets.sync import SyncReport, sync_catalog

__version__ = pack_version()


def __getattr__(name: str) -> Any:
    # Deprecated public names (GatewayDatasets), kept for one release; each warns when used.
    return deprecated_name(__name__, name)


__all__ = [
    "PACK_SCHEMA",
    "ArgumentTypeError",
    "BackendLimits",
    "CatalogConflictError",
    "CatalogMissingError",
    "CatalogShapeError",
    "Column",
    "ConfigError",
    "DatabaseLockedError",
    "Dataset",
    "DatasetDescription",
    "DatasetQueryService",
    "DatasetRegistry",
    "DatasetRowsResponse",
    "DatasetUnreadableError",
    "Diagnostic",
    "DriftItem",
    "DriftReport",
    "DucksetsError",
    "ExportError",
    "ExportFailure",
    "ExportResult",
    "ExportedFile",
    "Gateway",
    "GatewayClosedError",
    "GatewayDatasets",
    "InstallResult",
    "InvalidArgumentError",
    "InvalidFilenameError",
    "InvalidTableKeyError",
    "Message",
    "NotADatabaseError",
    "PackError",
    "PackFile",
    "PackIntegrityError",
    "PackVersionError",
    "ReadOnlyDatabaseError",
    "RelationMissingError",
    "ResponseMeta",
    "RowBinding",
    "RowCount",
    "RowValidationError",
    "SchemaError",
    "StorageConfig",
    "SyncReport",
    "TableKey",
    "TableSchema",
    "TransactionOpenError",
    "UnknownDatasetError",
    "__version__",
    "bootstrap_metadata_datasets",
    "catalog_drift",
    "check_catalog_keys",
    "count_dataset_rows",
    "count_datasets",
    "dataset_relation",
    "describe_dataset",
    "export_all_jsonl",
    "export_all_parquet",
    "export_dataset_to_jsonl",
    "export_dataset_to_parquet",
    "export_datasets",
    "insert_rows",
    "install_macros",
    "installed_version",
    "lint_pack",
    "load_dataset_registry",
    "lookup_table_key",
    "open_gateway",
    "open_memory_gateway",
    "pack_files",
    "pack_script",
    "pack_version",
    "parse_table_key",
    "register_dataset",
    "require_pack",
    "sync_catalog",
    "unregister_dataset",
    "verify_pack",
    "write_dataset_manifest",
]
