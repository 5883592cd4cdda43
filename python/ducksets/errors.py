"""The one error hierarchy of ducksets.

Every error ducksets raises on purpose is a ``DucksetsError``; each also
subclasses the builtin it means, so ``except KeyError`` keeps working for an
unknown dataset. Messages name the thing and say what to do.
"""

from __future__ import annotations


class DucksetsError(Exception):
    """Base class of every error ducksets raises on purpose."""


class PackError(DucksetsError):
    """The SQL pack is malformed, or a statement of it failed to install."""


class PackVersionError(PackError):
    """The database holds a newer pack than this package would install."""


class ReadOnlyDatabaseError(DucksetsError):
    """A write was asked of a database opened read-only."""


class CatalogMissingError(DucksetsError, LookupError):
    """The database has no ducksets catalog (the pack is not installed)."""


class InvalidTableKeyError(DucksetsError, ValueError):
    """A table key is not a valid ``schema.name`` or ``database.schema.name``."""


class UnknownDatasetError(DucksetsError, KeyError):
    """No dataset of that name is registered."""

    def __str__(self) -> str:
        # KeyError's str() repr-quotes its argument; show the message as written.
        return str(self.args[0]) if self.args else ""


class SchemaError(DucksetsError, ValueError):
    """A declared table schema or row binding is inconsistent."""


class RowValidationError(DucksetsError, ValueError):
    """A row to insert does not fit its dataset's schema; nothing was written."""


class ExportError(DucksetsError):
    """An export could not be written; no partial file was left behind."""


class ConfigError(DucksetsError, ValueError):
    """A setting is out of its range (such as ``BackendLimits(max_rows_per_call=0)``)."""
