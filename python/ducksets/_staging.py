"""Locks, staging directories and the all-or-nothing publish of an export run.

An export writes everything (data files and manifest) into a staging
directory ``.ducksets-tmp-*`` inside the output directory, then publishes it
by ``os.replace``, manifest last, while holding the directory lock
``.ducksets.lock``. Before replacing a file it hard-links the old one aside,
and a journal (``publish.json``) lists the targets, so a failed publish, or
one cut short by ``kill -9``, is rolled back: in-process at once, otherwise by
the next export into that directory.

Each staging directory holds a lock file, ``flock``-ed for the directory's
whole life. An export removes staging directories whose lock it can take:
their owner is dead (the kernel drops a dead process' locks). Staging
directories are created and cleaned only under the directory lock, so a
directory still being set up is never mistaken for a dead one.

Locks use ``fcntl.flock`` (POSIX). On Windows ``fcntl`` is not imported:
locking is a no-op there and leftover staging is never removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ducksets.errors import ExportError
from ducksets.filenames import LOCK_NAME, MANIFEST_NAME, TEMP_PREFIX

if sys.platform != "win32":
    import fcntl

STAGING_LOCK = ".lock"
JOURNAL = "publish.json"
FILES = "files"
BACKUPS = "old"


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
        stream = path.open("ab")
    except OSError as exc:
        msg = f"cannot open the lock file {path}: {exc}"
        raise ExportError(msg) from exc
    with stream:
        _lock(stream, wait=True)
        yield  # closing the file releases the lock


class Staging:
    """A live staging directory: ``files/`` for data, ``manifest.json``, ``old/`` for backups."""

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
            shutil.rmtree(self.path, ignore_errors=True)
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
        lock = (path / STAGING_LOCK).open("xb")
        _lock(lock, wait=False)  # a fresh file: nobody else can hold it
        (path / FILES).mkdir()
        (path / BACKUPS).mkdir()
    except BaseException:
        if lock is not None:
            lock.close()
        shutil.rmtree(path, ignore_errors=True)
        raise
    return Staging(path, lock)


def remove_dead_staging(directory: Path) -> list[Path]:
    """Roll back and remove staging left by dead processes; returns what was removed.

    Call with the directory lock held. A staging directory whose lock file is
    missing was cut short while being created (creation holds the directory
    lock), so it is dead too.
    """
    if sys.platform == "win32":
        return []
    removed = []
    for entry in sorted(directory.glob(f"{TEMP_PREFIX}*")):
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink(missing_ok=True)  # a manifest temp file of earlier ducksets versions
            removed.append(entry)
            continue
        try:
            lock = (entry / STAGING_LOCK).open("rb")
        except FileNotFoundError:
            lock = None
        with lock if lock is not None else contextlib.nullcontext():
            if lock is not None and not _lock(lock, wait=False):
                continue  # its owner is alive
            try:
                rollback(directory, entry)
            except OSError as exc:
                msg = (
                    f"cannot roll back the export cut short in {entry}: {exc}; "
                    "its old files are in its old/ folder, nothing else was changed"
                )
                raise ExportError(msg) from exc
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def publish(directory: Path, staging: Staging, filenames: list[str]) -> None:
    """Move the staged files into ``directory``, then the staged manifest, all or nothing.

    Call with the directory lock held.

    Raises
    ------
    ExportError
        A file could not be replaced; every file and the manifest are as before.
    """
    names = [*filenames, MANIFEST_NAME]
    journal = staging.path / JOURNAL
    journal_temp = staging.path / f"{JOURNAL}.tmp"
    try:
        journal_temp.write_text(json.dumps(names), encoding="utf-8")
        journal_temp.replace(journal)
        for name in names:
            source = staging.manifest if name == MANIFEST_NAME else staging.files / name
            target = directory / name
            _backup(target, staging.path / BACKUPS / name)
            source.replace(target)
    except BaseException as exc:
        if not isinstance(exc, OSError):
            rollback(directory, staging.path)  # interrupted: undo, then let it through
            journal.unlink(missing_ok=True)
            raise
        where = exc.filename or directory
        try:
            rollback(directory, staging.path)
        except OSError as undo:
            # The backups stay in the staging directory; once this process lets go
            # of its lock, the next export into the directory finishes the rollback.
            staging.keep = True
            msg = (
                f"cannot publish the export into {where}: {exc.strerror or exc}, nor undo it "
                f"yet ({undo}); the next export into {directory} restores the old files"
            )
            raise ExportError(msg) from exc
        journal.unlink(missing_ok=True)
        msg = f"cannot publish the export into {where}: {exc.strerror or exc}; nothing was changed"
        raise ExportError(msg) from exc


def _backup(target: Path, backup: Path) -> None:
    """Keep the old ``target`` reachable at ``backup`` (a hard link; a copy where links fail)."""
    if not target.exists():
        return
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)


def rollback(directory: Path, staging_path: Path) -> None:
    """Undo a publish cut short: restore every replaced file, remove every new one.

    A target was published when its staged source is gone. The manifest is
    published last, so a staging directory whose manifest is gone finished
    publishing and needs nothing.
    """
    journal = staging_path / JOURNAL
    if not journal.exists() or not (staging_path / MANIFEST_NAME).exists():
        return
    names = json.loads(journal.read_text(encoding="utf-8"))
    for name in names:
        source = staging_path / (MANIFEST_NAME if name == MANIFEST_NAME else f"{FILES}/{name}")
        if source.exists():
            continue  # never moved
        backup = staging_path / BACKUPS / name
        if backup.exists():
            backup.replace(directory / name)
        else:
            (directory / name).unlink(missing_ok=True)
