"""The one error hierarchy of ducksets.

Every error ducksets raises on purpose is a ``DucksetsError``; each also
subclasses the builtin it means, so ``except KeyError`` keeps working for an
unknown dataset and ``except ValueError`` for a bad argument. Messages name
the thing and say what to do; fields hold the same facts for programs.
"""

from __future__ import annotations

from typing import Any


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's text (its type name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class DucksetsError(Exception):
    """Base class of every error ducksets raises on purpose."""


# Fields shared by several errors; each error also subclasses its own builtin.
class _PathError(DucksetsError):
    """An error about a file or directory; ``path`` names it."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class _DatasetError(DucksetsError):
    """An error about one dataset; ``dataset`` and ``table_key`` name it."""

    def __init__(self, message: str, *, dataset: str | None = None, table_key: str = "") -> None:
        super().__init__(message)
        self.dataset = dataset
        self.table_key = table_key


class _ArgumentError(DucksetsError):
    """An error about one argument; ``parameter`` names it, ``value`` is what was given."""

    def __init__(self, message: str, *, parameter: str, value: Any = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value


class PackError(DucksetsError, RuntimeError):
    """The SQL pack is malformed, or a statement of it failed to install."""


class PackVersionError(PackError):
    """The database holds a newer pack than this package would install."""


class PackIntegrityError(PackError):
    """Pack objects in the database are missing or differ from the pack's own text.

    ``problems`` holds one line per object; ``ducksets install DB`` repairs them.
    """

    def __init__(self, message: str, *, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class ReadOnlyDatabaseError(DucksetsError, PermissionError):
    """A write was asked of a database opened read-only."""


class NotADatabaseError(_PathError, OSError):
    """A path given as a database is a directory, or a file that is not a DuckDB database."""


class CatalogMissingError(DucksetsError, LookupError):
    """The database has no ducksets catalog (the pack is not installed)."""


class CatalogShapeError(DucksetsError, RuntimeError):
    """A catalog table exists but has another shape than the pack's (an ALTERed column, a view)."""

    def __init__(self, message: str, *, table: str | None = None) -> None:
        super().__init__(message)
        self.table = table


class CatalogConflictError(DucksetsError, RuntimeError):
    """Another transaction wrote the same catalog rows at the same time; retry the call."""


class TransactionOpenError(DucksetsError, RuntimeError):
    """A call that runs its own transaction found one already open on the connection."""


class InvalidTableKeyError(DucksetsError, ValueError):
    """A table key is not a valid ``schema.name`` or ``database.schema.name``."""

    def __init__(self, message: str, *, key: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.reason = reason


class UnknownDatasetError(DucksetsError, KeyError):
    """No dataset of that name is registered; ``suggestions`` holds close names."""

    def __init__(
        self, message: str, *, name: str | None = None, suggestions: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.name = name
        self.suggestions = suggestions

    def __str__(self) -> str:
        # KeyError's str() repr-quotes its argument; show the message as written.
        return str(self.args[0]) if self.args else ""


class RelationMissingError(_DatasetError, LookupError):
    """A dataset's table key names no existing table or view (nothing else is read instead)."""


class InvalidFilenameError(DucksetsError, ValueError):
    """An export file name is not a plain name in the output directory, or is reserved."""

    def __init__(self, message: str, *, filename: str | None = None) -> None:
        super().__init__(message)
        self.filename = filename


class InvalidArgumentError(_ArgumentError, ValueError):
    """An argument has the right type but a value out of its range; names the parameter."""


class ArgumentTypeError(_ArgumentError, TypeError):
    """An argument has the wrong type; names the parameter and the type expected."""


class SchemaError(DucksetsError, ValueError):
    """A declared table schema or row binding is inconsistent."""


class RowValidationError(DucksetsError, ValueError):
    """A row to insert does not fit its dataset's schema; nothing was written."""


class ExportError(DucksetsError, OSError):
    """An export could not be written; nothing was published and old files are untouched."""


class ConfigError(DucksetsError, ValueError):
    """A setting is out of its range (such as ``BackendLimits(max_rows_per_call=0)``)."""


class GatewayClosedError(DucksetsError, RuntimeError):
    """The gateway (or connection) was closed; open a new one with ``open_gateway``."""


class DatabaseLockedError(_PathError, OSError):
    """Another process holds the database file's lock (DuckDB allows one writing process)."""


class DatasetUnreadableError(_DatasetError, RuntimeError):
    """A dataset's relation exists but cannot be read (a view over a dropped table)."""


class PathExistsError(_PathError, FileExistsError):
    """A file ducksets would create exists already; ``path`` names it."""


class DemoBuildError(DucksetsError, RuntimeError):
    """The demo database could not be built whole; nothing was written to its path."""


class MissingExtraError(DucksetsError, ImportError):
    """An optional feature needs a package extra that is not installed; ``extra`` names it."""

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.extra = extra


class ReadTimeoutError(DucksetsError, TimeoutError):
    """A read ran longer than its time limit and was interrupted; ``seconds`` is the limit."""

    def __init__(self, message: str, *, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


class InvalidCursorError(InvalidArgumentError):
    """A page cursor was changed, issued elsewhere, is stale, or belongs to another dataset."""


class ObjectStoreError(ExportError):
    """An object store (S3) refused or failed a request; ``url`` names what was asked for."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class EndpointUnreachableError(ObjectStoreError, ConnectionError):
    """The S3 endpoint did not answer after a few retries; ``url`` is the endpoint."""


class ObjectStoreAccessError(ObjectStoreError, PermissionError):
    """No S3 credentials were found, or the endpoint refused them."""


class BucketMissingError(ObjectStoreError, FileNotFoundError):
    """The S3 bucket of an export target does not exist; ``url`` is ``s3://bucket``."""


class MissingExtensionError(DucksetsError, ImportError):
    """A DuckDB extension (``ducklake``) is not available; ``package`` is the wheel to install."""

    def __init__(self, message: str, *, extension: str, package: str) -> None:
        super().__init__(message)
        self.extension = extension
        self.package = package
