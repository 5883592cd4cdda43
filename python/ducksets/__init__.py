"""ducksets: a DuckDB dataset catalog, as a SQL macro pack and its typed Python binding.

Every public name is imported on first use (PEP 562): ``import ducksets`` does
not import DuckDB or any module of the package, so a program (the CLI, a
notebook) pays only for what it uses. ``from ducksets import X``,
``ducksets.X`` and ``dir(ducksets)`` work as with eager imports, and type
checkers read the imports below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ducksets.catalog import bootstrap_metadata_datasets, register_dataset, unregister_dataset
    from ducksets.counts import RowCount, count_dataset_rows, count_datasets
    from ducksets.describe import DatasetDescription, describe_dataset
    from ducksets.drift import DRIFT_CODES, DriftCode, DriftItem, DriftReport, catalog_drift
    from ducksets.ducklake import attach_ducklake
    from ducksets.errors import (
        ArgumentTypeError,
        CatalogConflictError,
        CatalogMissingError,
        CatalogShapeError,
        ConfigError,
        DatabaseLockedError,
        DatasetUnreadableError,
        DemoBuildError,
        DucksetsError,
        ExportError,
        GatewayClosedError,
        InvalidArgumentError,
        InvalidCursorError,
        InvalidFilenameError,
        InvalidTableKeyError,
        MissingExtensionError,
        MissingExtraError,
        NotADatabaseError,
        PackError,
        PackIntegrityError,
        PackVersionError,
        PathExistsError,
        ReadOnlyDatabaseError,
        ReadTimeoutError,
        RelationMissingError,
        RowValidationError,
        SchemaError,
        TransactionOpenError,
        UnknownDatasetError,
    )
    from ducksets.export import (
        ExportedFile,
        ExportedPart,
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
    from ducksets.responses import BackendLimits, DatasetRowsResponse, Message, ResponseMeta
    from ducksets.rowbinding import RowBinding, insert_rows
    from ducksets.rows import DatasetQueryService
    from ducksets.schema import Column, TableSchema
    from ducksets.sync import SyncReport, sync_catalog
    from ducksets.verify import VerifiedFile, VerifyProblem, VerifyReport, verify_exports

    __version__: str

# The module that defines each public name (space-separated), imported on first use.
_MODULES: dict[str, str] = {
    "catalog": "bootstrap_metadata_datasets register_dataset unregister_dataset",
    "counts": "RowCount count_dataset_rows count_datasets",
    "describe": "DatasetDescription describe_dataset",
    "drift": "DRIFT_CODES DriftCode DriftItem DriftReport catalog_drift",
    "ducklake": "attach_ducklake",
    "errors": (
        "ArgumentTypeError CatalogConflictError CatalogMissingError CatalogShapeError ConfigError "
        "DatabaseLockedError DatasetUnreadableError DemoBuildError DucksetsError ExportError "
        "GatewayClosedError InvalidArgumentError InvalidCursorError InvalidFilenameError "
        "InvalidTableKeyError MissingExtensionError MissingExtraError NotADatabaseError "
        "PackError PackIntegrityError PackVersionError PathExistsError ReadOnlyDatabaseError "
        "ReadTimeoutError "
        "RelationMissingError RowValidationError SchemaError TransactionOpenError "
        "UnknownDatasetError"
    ),
    "export": (
        "ExportedFile ExportedPart ExportFailure ExportResult export_all_jsonl export_all_parquet "
        "export_dataset_to_jsonl export_dataset_to_parquet export_datasets write_dataset_manifest"
    ),
    "gateway": "Gateway StorageConfig open_gateway open_memory_gateway",
    "integrity": "require_pack verify_pack",
    "keys": "TableKey parse_table_key",
    "lint": "Diagnostic check_catalog_keys lint_pack",
    "pack": (
        "PACK_SCHEMA InstallResult PackFile install_macros installed_version pack_files "
        "pack_script pack_version"
    ),
    "registry": "Dataset DatasetRegistry load_dataset_registry lookup_table_key",
    "relation": "dataset_relation",
    "rowbinding": "RowBinding insert_rows",
    "responses": "BackendLimits DatasetRowsResponse Message ResponseMeta",
    "rows": "DatasetQueryService",
    "schema": "Column TableSchema",
    "sync": "SyncReport sync_catalog",
    "verify": "VerifiedFile VerifyProblem VerifyReport verify_exports",
}
_HOMES = {
    name: f"ducksets.{module}" for module, names in _MODULES.items() for name in names.split()
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
    elif name == "__version__":
        from ducksets.pack import pack_version

        value = pack_version()
    elif name == "GatewayDatasets":
        # A deprecated public name, kept for one release; it warns when used.
        from ducksets.gateway import deprecated_name

        return deprecated_name(__name__, name)
    else:
        # Not imported here: ``from ducksets import _cli_verbs`` then imports the submodule.
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "DRIFT_CODES",
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
    "DemoBuildError",
    "Diagnostic",
    "DriftCode",
    "DriftItem",
    "DriftReport",
    "DucksetsError",
    "ExportError",
    "ExportFailure",
    "ExportResult",
    "ExportedFile",
    "ExportedPart",
    "Gateway",
    "GatewayClosedError",
    "GatewayDatasets",
    "InstallResult",
    "InvalidArgumentError",
    "InvalidCursorError",
    "InvalidFilenameError",
    "InvalidTableKeyError",
    "Message",
    "MissingExtensionError",
    "MissingExtraError",
    "NotADatabaseError",
    "PackError",
    "PackFile",
    "PackIntegrityError",
    "PackVersionError",
    "PathExistsError",
    "ReadOnlyDatabaseError",
    "ReadTimeoutError",
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
    "VerifiedFile",
    "VerifyProblem",
    "VerifyReport",
    "__version__",
    "attach_ducklake",
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
    "verify_exports",
    "verify_pack",
    "write_dataset_manifest",
]
