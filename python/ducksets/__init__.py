"""ducksets: a DuckDB dataset catalog, as a SQL macro pack and its typed Python binding."""

from __future__ import annotations

from ducksets.errors import (
    CatalogMissingError,
    DucksetsError,
    InvalidTableKeyError,
    PackError,
    PackVersionError,
    ReadOnlyDatabaseError,
    UnknownDatasetError,
)
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

__version__ = pack_version()

__all__ = [
    "PACK_SCHEMA",
    "CatalogMissingError",
    "DucksetsError",
    "InstallResult",
    "InvalidTableKeyError",
    "PackError",
    "PackFile",
    "PackVersionError",
    "ReadOnlyDatabaseError",
    "UnknownDatasetError",
    "__version__",
    "install_macros",
    "installed_version",
    "pack_files",
    "pack_script",
    "pack_version",
]
