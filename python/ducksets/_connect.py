"""Opening a database file: only a DuckDB database, and never a download.

``duckdb.connect`` alone opens an in-memory database for a Parquet file (2.0),
tries to download ``sqlite_scanner`` for a SQLite file, and reports a
directory or a missing file in words about DuckDB internals. ``connect``
checks the path first:

- a directory, or anything that is not a regular file, is refused;
- an existing file must carry DuckDB's magic bytes ``DUCK`` at offset 8 of
  its header (every storage version, v0.10.2 to 2.0's latest, does);
- an empty file is refused too, as DuckDB itself refuses it (1.2, 1.5 and
  2.0 alike); delete it and DuckDB creates a new database at that path;
- a missing file is created only by a writable open;
- ``:memory:`` is opened only when asked for by name;
- a ``ducklake:`` path opens that DuckLake, its extensions loaded from what
  is installed or from the ``duckdb-extension-*`` packages.

Every connection sets ``autoinstall_known_extensions`` to false, so nothing
is ever downloaded behind the caller's back (an explicit ``INSTALL`` still
works). The one exception: a file this process already opened with plain
``duckdb.connect`` is joined with its owner's settings, since DuckDB shares
one database per file and process and allows no second configuration.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

import duckdb

from ducksets._args import require_unicode
from ducksets.errors import (
    ArgumentTypeError,
    DatabaseLockedError,
    InvalidArgumentError,
    NotADatabaseError,
    first_line,
)

MEMORY = ":memory:"
DUCKLAKE_PREFIX = "ducklake:"
_MAGIC = b"DUCK"
_MAGIC_OFFSET = 8
_NO_DOWNLOADS = {"autoinstall_known_extensions": "false"}


def connect(
    path: str | Path, *, read_only: bool, config: Mapping[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB database file at ``path``, refusing anything else.

    Parameters
    ----------
    path
        A database file, ``"ducklake:<catalog>"`` for a DuckLake, or
        ``":memory:"`` for a new in-memory database.
    read_only
        Open read-only; the file must then exist.
    config
        DuckDB settings (such as ``storage_compatibility_version``);
        ``autoinstall_known_extensions`` is always false.

    Raises
    ------
    NotADatabaseError
        ``path`` is a directory, a file that is not a DuckDB database, an
        empty file, or (read-only) a file that does not exist.
    DatabaseLockedError
        Another process holds the file's lock.
    MissingExtensionError
        A ``ducklake:`` path, and the ducklake extension cannot be loaded.
    ArgumentTypeError, InvalidArgumentError
        ``path`` is not a ``str`` or path object, or is empty.
    """
    text = _path_text(path)
    settings: dict[str, str | bool | int | float | list[str]] = {
        **(config or {}),
        **_NO_DOWNLOADS,
    }
    if text == MEMORY:
        return duckdb.connect(MEMORY, read_only=read_only, config=settings)
    if text.startswith(DUCKLAKE_PREFIX):
        # A lake is not a file: its catalog may be SQLite or Postgres. DuckDB
        # checks it, once its extensions load (MissingExtensionError if not).
        from ducksets.ducklake import prepare_ducklake_path

        check_database_path(Path(text), read_only=read_only)
        prepare_ducklake_path(text, config=config)
        return duckdb.connect(text, read_only=read_only, config=settings)
    check_database_path(Path(text), read_only=read_only)
    try:
        return duckdb.connect(text, read_only=read_only, config=settings)
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        msg = (
            f"database file {text} is in use by another process ({first_line(exc)}); "
            "DuckDB lets one process write a file, or several read it: close the other "
            "process, or open read-only from both"
        )
        raise DatabaseLockedError(msg, path=text) from exc
    # Open already in this process, through a connection ducksets did not make:
    # DuckDB keeps one database per file and process, so join it as its owner set it
    # (the setting is global to that database; changing it would change the owner's).
    return duckdb.connect(text, read_only=read_only, config=dict(config or {}))


def _path_text(path: object) -> str:
    text = os.fspath(path) if isinstance(path, str | os.PathLike) else None
    if not isinstance(text, str):
        wrong = f"{type(path).__name__} {path!r}"
        msg = f"path must be a database file path (str or Path), not {wrong}"
        raise ArgumentTypeError(msg, parameter="path", value=path)
    if not text.strip():
        msg = "path is empty; give a database file, or ':memory:' for an in-memory database"
        raise InvalidArgumentError(msg, parameter="path", value=path)
    require_unicode("path", text)
    return text


def check_database_path(path: Path, *, read_only: bool) -> None:
    """Raise ``NotADatabaseError`` unless ``path`` is a DuckDB file (writable: or can be one).

    A ``ducklake:`` path passes when its catalog can be there: DuckDB's
    DuckLake checks the catalog itself as it opens it.
    """
    text = str(path)
    if text.startswith(DUCKLAKE_PREFIX):
        catalog = Path(text[len(DUCKLAKE_PREFIX) :])
        if read_only and ":" not in str(catalog) and not catalog.exists():
            msg = f"no DuckLake catalog {catalog}; check the path after 'ducklake:'"
            raise NotADatabaseError(msg, path=text)
        return
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if read_only:
            msg = f"no database file {path}; check the path (ducksets demo makes one to try)"
            raise NotADatabaseError(msg, path=str(path)) from None
        if not path.parent.is_dir():
            msg = f"cannot create database {path}: no directory {path.parent}"
            raise NotADatabaseError(msg, path=str(path)) from None
        return
    if stat.S_ISDIR(mode):
        msg = f"{path} is a directory; give a database file"
        raise NotADatabaseError(msg, path=str(path))
    if not stat.S_ISREG(mode):
        msg = f"{path} is not a regular file, so not a DuckDB database file"
        raise NotADatabaseError(msg, path=str(path))
    with path.open("rb") as handle:
        header = handle.read(_MAGIC_OFFSET + len(_MAGIC))
    if not header:
        msg = (
            f"{path} is an empty file, not a DuckDB database file; "
            "delete it to create a new database there"
        )
        raise NotADatabaseError(msg, path=str(path))
    if header[_MAGIC_OFFSET:] != _MAGIC:
        msg = f"{path} is not a DuckDB database file"
        raise NotADatabaseError(msg, path=str(path))
