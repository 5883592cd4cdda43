"""Export file names: what a catalog may register and what an export may write.

One rule for both ends: a name refused here is refused when it is registered
(``register_dataset``, bootstrap) and again when an export reads it from the
catalog (a row inserted by plain SQL skips the first check).

Names are compared case-insensitively (``str.casefold``) wherever two names
could be one file: macOS and Windows file systems ignore case.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

from ducksets.errors import InvalidFilenameError

MANIFEST_NAME = "datapackage.json"
"""The manifest ducksets writes beside the files it exports: a Frictionless Data Package."""
LEGACY_MANIFEST_NAME = "manifest.json"
"""The manifest of ducksets before 0.7; read once, then replaced by ``datapackage.json``."""
TEMP_PREFIX = ".ducksets-tmp-"
"""Prefix of the staging directories an export writes into before publishing."""
LOCK_NAME = ".ducksets.lock"
"""The lock file that serializes publishing into one output directory."""


def reserved_reason(filename: str) -> str | None:
    """Why ``filename`` is reserved for ducksets itself, or ``None`` when it is free.

    >>> reserved_reason("DataPackage.JSON") is not None, reserved_reason("goids.parquet")
    (True, None)
    """
    folded = filename.casefold()
    if folded in {MANIFEST_NAME, LEGACY_MANIFEST_NAME, LOCK_NAME}:
        return f"{filename!r} is the name of ducksets' own {folded} file"
    if folded.startswith(TEMP_PREFIX):
        return f"{filename!r} starts with {TEMP_PREFIX!r}, the prefix of ducksets' staging"
    return None


def check_filename(filename: str | None) -> str | None:
    """``filename`` if it is a plain, unreserved file name that stays in the output directory.

    Raises
    ------
    InvalidFilenameError
        Empty, absolute, ``.``/``..``, holding a path separator or NUL, or
        reserved (``datapackage.json``, ``manifest.json``, ``.ducksets.lock``,
        ``.ducksets-tmp-*``).
    """
    if filename is None:
        return None
    _check_plain(filename)
    reason = reserved_reason(filename)
    if reason is not None:
        msg = f"export filename {reason}; it is reserved, choose another name"
        raise InvalidFilenameError(msg, filename=filename)
    return filename


def _check_plain(filename: str) -> None:
    posix, windows = PurePosixPath(filename), PureWindowsPath(filename)
    if (
        not filename.strip()
        or filename in {".", ".."}
        or posix.is_absolute()
        or windows.is_absolute()
        or len(posix.parts) != 1
        or len(windows.parts) != 1
        or "\x00" in filename
    ):
        msg = (
            f"export filename {filename!r} is not a plain file name; "
            "give a name like 'goids.parquet' (no directories, no '..', not absolute)"
        )
        raise InvalidFilenameError(msg, filename=filename)


def check_dataset_name(name: str) -> str:
    """``name`` if it can also name export files (``<name>.jsonl``).

    Raises
    ------
    InvalidFilenameError
        ``<name>.jsonl`` or ``<name>.parquet`` would not be a plain, unreserved name.
    """
    try:
        _check_plain(name)
        check_filename(f"{name}.jsonl")
        check_filename(f"{name}.parquet")
    except InvalidFilenameError:
        msg = (
            f"dataset name {name!r} cannot name a file ({name}.parquet is the default export); "
            f"use a name without '/', '\\' or '..' that does not start with {TEMP_PREFIX!r}"
        )
        raise InvalidFilenameError(msg, filename=name) from None
    return name
