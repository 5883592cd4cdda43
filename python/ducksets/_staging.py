"""Locks and staging directories of an export run.

An export writes everything (data files and manifest) into a staging
directory ``.ducksets-tmp-*`` inside the output directory, then publishes it
all or nothing (``ducksets._publishing``) while holding the directory lock
``.ducksets.lock``.

Each staging directory holds a lock file, ``flock``-ed for the directory's
whole life. An export removes staging directories whose lock it can take:
their owner is dead (the kernel drops a dead process' locks), and a publish
it cut short is rolled back first (``_publishing.rollback``). Staging
directories are created and cleaned only under the directory lock, so a
directory still being set up is never mistaken for a dead one.

Only what ducksets wrote is ever removed or acted upon. A ``.ducksets-tmp-*``
folder without a lock file is removed only while empty (its maker died between
``mkdir`` and creating the lock); one whose lock file is not a regular file is
left alone, and so is one whose journal ducksets did not write. Lock files
are opened without following symlinks and without blocking on a FIFO
(``_publishing.open_regular``).

Locks use ``fcntl.flock`` (POSIX). On Windows ``fcntl`` is not imported:
locking is a no-op there and leftover staging is never removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ducksets._publishing import (
    BACKUPS,
    FILES,
    JOURNAL,
    NotRegularFileError,
    open_regular,
    rollback,
)
from ducksets.errors import ExportError
from ducksets.filenames import LOCK_NAME, MANIFEST_NAME, TEMP_PREFIX

if sys.platform != "win32":
    import fcntl

STAGING_LOCK = ".lock"
LEGACY_TEMP = re.compile(re.escape(TEMP_PREFIX) + r"[0-9a-f]{16}\.json")
"""The manifest temp file of earlier ducksets versions: the only prefixed file removed."""


def _lock(stream: IO[bytes], *, wait: bool) -> bool:
    """Take an exclusive lock on ``stream``; False when ``wait`` is off and it is taken."""
    if sys.platform == "win32":
        return True
    flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
    try:
        fcntl.flock(stream.fileno(), flags)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """Hold the output directory's lock (``.ducksets.lock``), waiting for other exports."""
    path = directory / LOCK_NAME
    try:
        stream = open_regular(path, os.O_RDWR | os.O_CREAT, "r+b")
    except NotRegularFileError as exc:
        msg = (
            f"the lock file {path} is {exc.kind}, not ducksets' lock file; "
            "remove it and export again"
        )
        raise ExportError(msg) from exc
    except OSError as exc:
        msg = f"cannot open the lock file {path}: {exc}"
        raise ExportError(msg) from exc
    with stream:
        _lock(stream, wait=True)
        yield  # closing the file releases the lock


class Staging:
    """A live staging directory: ``files/`` for data, the manifest, ``old/`` for backups."""

    def __init__(self, path: Path, lock: IO[bytes]) -> None:
        self.path = path
        self._lock = lock
        self.keep = False
        """Set when a rollback failed: the next export rolls back from what is left here."""

    @property
    def files(self) -> Path:
        """Where the COPY statements write."""
        return self.path / FILES

    @property
    def manifest(self) -> Path:
        """Where the run's manifest is written before it is published."""
        return self.path / MANIFEST_NAME

    def close(self) -> None:
        """Remove the directory, then drop its lock.

        A publish cut short (journal written, manifest still staged) keeps the
        directory and its backups: the next export into the directory rolls it back.
        """
        unfinished = (self.path / JOURNAL).exists() and self.manifest.exists()
        if not (self.keep or unfinished):
            remove_staging(self.path)
        self._lock.close()


def open_staging(directory: Path) -> Staging:
    """Remove dead staging in ``directory``, then create and lock a new staging directory.

    Call with the directory lock held.
    """
    remove_dead_staging(directory)
    path = directory / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
    path.mkdir()
    lock = None
    try:
        lock = open_regular(path / STAGING_LOCK, os.O_RDWR | os.O_CREAT | os.O_EXCL, "r+b")
        _lock(lock, wait=False)  # a fresh file: nobody else can hold it
        (path / FILES).mkdir()
        (path / BACKUPS).mkdir()
    except BaseException:
        if lock is not None:
            lock.close()
        remove_staging(path)
        raise
    return Staging(path, lock)


def remove_dead_staging(directory: Path) -> list[Path]:
    """Roll back and remove staging left by dead processes; returns what was removed.

    Call with the directory lock held. Anything with the staging prefix that
    ducksets did not make is left alone (see the module docstring).
    """
    if sys.platform == "win32":
        return []
    return [e for e in sorted(directory.glob(f"{TEMP_PREFIX}*")) if _remove_if_dead(directory, e)]


def _remove_if_dead(directory: Path, entry: Path) -> bool:
    """Remove ``entry`` if ducksets made it and its owner is dead; False leaves it as it is."""
    if entry.is_symlink() or not entry.is_dir():
        if LEGACY_TEMP.fullmatch(entry.name) and not entry.is_symlink() and entry.is_file():
            entry.unlink(missing_ok=True)
            return True
        return False
    try:
        lock = open_regular(entry / STAGING_LOCK, os.O_RDONLY, "rb")
    except FileNotFoundError:
        # Creation holds the directory lock, so a lockless staging directory was
        # cut short between mkdir and its lock file: then it is still empty.
        return _remove_if_empty(entry)
    except OSError:
        return False  # a symlink, FIFO, ... where ducksets puts a plain file: not ours
    with lock:
        if not _lock(lock, wait=False):
            return False  # its owner is alive
        try:
            trusted = rollback(directory, entry)
        except OSError as exc:
            msg = (
                f"cannot roll back the export cut short in {entry}: {exc}; "
                "its old files are in its old/ folder, nothing else was changed"
            )
            raise ExportError(msg) from exc
        if not trusted:
            return False  # a journal ducksets did not write: act on nothing
        remove_staging(entry)
    return True


def remove_staging(path: Path) -> None:
    """Remove a staging directory, its lock file last, ignoring errors.

    Cut short (``kill -9``), what is left still holds the lock file, or is
    empty: the next export recognizes it as dead staging and removes it.
    """
    with contextlib.suppress(OSError):
        for child in path.iterdir():
            if child.name == STAGING_LOCK:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        (path / STAGING_LOCK).unlink(missing_ok=True)
        path.rmdir()


def _remove_if_empty(entry: Path) -> bool:
    try:
        entry.rmdir()
    except OSError:
        return False  # not empty: somebody else's folder
    return True
