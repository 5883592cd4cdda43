"""The all-or-nothing publish of a staging directory, and its rollback.

A run's staging directory (``ducksets._staging``) holds its data files in
``files/`` and its manifest. ``publish`` moves them into the output directory
by ``os.replace``, manifest last, while the caller holds the directory lock
``.ducksets.lock``. Before replacing a file it hard-links the old one aside
into ``old/``, and a journal (``publish.json``) lists the targets, so a failed
publish, or one cut short by ``kill -9``, is rolled back (``rollback``):
in-process at once, otherwise by the next export into that directory
(``_staging.remove_dead_staging``).

A dataset exported as a directory of Parquet files (``ducksets._export_parts``)
is a directory target: hard links cannot set a directory aside, so the old one
(file or directory) is renamed into ``old/`` just before the new one is renamed
in, and the journal's ``dirs`` names these targets so a rollback removes the
new directory and renames the old one back.

A journal is obeyed only when it is a regular file listing plain file names
(``ducksets.filenames.check_filename``, or a manifest name) beside real
``files/`` and ``old/`` folders: anything else could name a path outside the
output directory, so that staging directory is left as it is. ducksets' own
files (a journal, a lock file) are opened by ``open_regular``, which never
follows a symlink nor waits for a FIFO's writer.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ducksets.errors import ExportError, InvalidFilenameError
from ducksets.filenames import LEGACY_MANIFEST_NAME, MANIFEST_NAME, check_filename

if TYPE_CHECKING:
    from ducksets._staging import Staging

# The staging directory's layout (``_staging`` creates it), which the journal relies on.
JOURNAL = "publish.json"
FILES = "files"
BACKUPS = "old"
# Never follow a symlink nor wait for a FIFO's writer when opening our own files.
_OPEN_FLAGS = (
    getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class NotRegularFileError(OSError):
    """Where ducksets expects its own regular file there is a symlink, FIFO or directory."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} is {_kind(path)}, not a regular file")
        self.kind = _kind(path)


def _kind(path: Path) -> str:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "not a regular file"
    if stat.S_ISLNK(mode):
        return "a symlink"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    return "not a regular file"


def open_regular(path: Path, flags: int, mode: str) -> IO[bytes]:
    """Open ``path`` with ``flags``, refusing anything but a regular file.

    Raises
    ------
    NotRegularFileError
        A symlink (never followed), a FIFO (never waited on), a directory, ...
    OSError
        Missing (``FileNotFoundError``) or not openable.
    """
    try:
        fd = os.open(path, flags | _OPEN_FLAGS, 0o666)
    except OSError as exc:
        if exc.errno in {errno.ELOOP, errno.EISDIR, errno.ENXIO}:
            raise NotRegularFileError(path) from exc
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFileError(path)
        return os.fdopen(fd, mode)
    except BaseException:
        os.close(fd)
        raise


def publish(
    directory: Path, staging: Staging, filenames: list[str], remove: Sequence[str] = ()
) -> None:
    """Move the staged files into ``directory``, then the staged manifest, all or nothing.

    ``remove`` names files to take away in the same publish (the legacy
    ``manifest.json``): each is moved into ``old/`` just before the manifest
    is published, so a rollback moves it back.

    Call with the directory lock held.

    Raises
    ------
    ExportError
        A file could not be replaced; every file and the manifest are as before.
    """
    names = [*filenames, MANIFEST_NAME]
    journal = staging.path / JOURNAL
    journal_temp = staging.path / f"{JOURNAL}.tmp"
    # A directory of Parquet files (or a file it replaces, or that replaces it)
    # cannot be hard-linked aside: the old one is renamed into old/ just before.
    dirs = _directory_targets(directory, staging.files, filenames)
    try:
        record = {"publish": names, "remove": list(remove), "dirs": dirs}
        journal_temp.write_text(json.dumps(record), encoding="utf-8")
        journal_temp.replace(journal)
        # A data file moves by plain strings: a Path per file and step cost a
        # third of each rename, and a run may publish thousands of small files.
        files, backups, here = (
            f"{p}{os.sep}" for p in (staging.files, staging.path / BACKUPS, directory)
        )
        directories = set(dirs)
        for name in filenames:
            target = here + name
            if name in directories:
                if os.path.lexists(target):
                    Path(target).replace(backups + name)
                Path(files + name).replace(target)
            else:
                _backup(target, backups + name)
                os.replace(files + name, target)  # noqa: PTH105 - see above
        for gone in remove:  # atomic moves: the file is either here or in old/
            if os.path.lexists(here + gone):
                Path(here + gone).replace(backups + gone)
        _backup(here + MANIFEST_NAME, backups + MANIFEST_NAME)
        staging.manifest.replace(directory / MANIFEST_NAME)
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


def _is_dir(path: Path) -> bool:
    """A real directory (a symlink to one is not)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _remove(path: Path) -> None:
    """Remove a published file, or a published directory with what it holds."""
    if _is_dir(path):
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _backup(target: str, backup: str) -> None:
    """Keep the old ``target`` reachable at ``backup`` (a hard link; a copy where links fail).

    Linking is the existence check too: nothing at ``target`` (or a dangling
    symlink) needs no backup, and no other call can see it in between.
    """
    try:
        os.link(target, backup)
    except FileNotFoundError:
        return
    except OSError:
        if Path(target).exists():
            shutil.copy2(target, backup)


def _directory_targets(directory: Path, files: Path, filenames: Sequence[str]) -> list[str]:
    """The names whose staged source or current target is a real directory (not a symlink).

    Each folder is listed once; a target is looked at itself only when the
    listing of ``directory`` holds its name as a file system that ignores
    case may compare it (or when a folder cannot be listed).
    """
    if not filenames:
        return []  # the manifest alone: nothing to list
    staged, present = _listed(files), _listed(directory)

    def is_dir(name: str) -> bool:
        if staged is None:
            if _is_dir(files / name):
                return True
        elif staged.get(name):
            return True
        return (present is None or fs_fold(name) in present) and _is_dir(directory / name)

    return [name for name in filenames if is_dir(name)]


def _listed(folder: Path) -> dict[str, bool] | None:
    """Each name in ``folder`` (and its folded form), and whether it is a real directory.

    ``None`` when ``folder`` cannot be listed.
    """
    listed: dict[str, bool] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                is_dir = entry.is_dir(follow_symlinks=False)
                listed.setdefault(fs_fold(entry.name), is_dir)
                listed[entry.name] = is_dir
    except OSError:
        return None
    return listed


def fs_fold(name: str) -> str:
    """``name`` as a file system that ignores case and Unicode normalization may compare it."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", name).casefold())


def rollback(directory: Path, staging_path: Path) -> bool:
    """Undo a publish cut short: restore every replaced or removed file, remove every new one.

    A target was published when its staged source is gone. The manifest is
    published last, so a staging directory whose manifest is gone finished
    publishing and needs nothing. (Staging of ducksets before 0.7 has a
    journal listing ``manifest.json`` last, staged under that name.)

    Returns
    -------
    bool
        False when the journal is not one ducksets wrote: nothing was done.
    """
    if not os.path.lexists(staging_path / JOURNAL):
        return True
    journal = _journal_names(directory, staging_path)
    if journal is None:
        return False
    names, removed, dirs = journal
    manifest = names[-1]
    if not (staging_path / manifest).exists():
        return True
    for name in names:
        source = staging_path / (manifest if name == manifest else f"{FILES}/{name}")
        backup = staging_path / BACKUPS / name
        target = directory / name
        if name in dirs:
            # The old one is renamed aside before the new one comes in: either
            # may be done alone.
            if not os.path.lexists(source):
                _remove(target)
            if os.path.lexists(backup) and not os.path.lexists(target):
                backup.replace(target)
            continue
        if source.exists():
            continue  # never moved
        if backup.exists():
            backup.replace(target)
        else:
            target.unlink(missing_ok=True)
    for name in removed:
        backup = staging_path / BACKUPS / name
        if backup.exists() and not os.path.lexists(directory / name):
            backup.replace(directory / name)
    return True


def _journal_names(
    directory: Path, staging_path: Path
) -> tuple[list[str], list[str], list[str]] | None:
    """The targets and removals of ``staging_path``'s journal, or None when it is not ducksets'.

    ducksets writes a regular file holding ``{"publish": [...], "remove":
    [...]}`` (before 0.7: a list, the manifest last) of plain names beside
    real ``files/`` and ``old/`` folders whose backups are regular files.
    Anything else could lead outside ``directory`` (``../x``, a symlinked
    ``old/``), so it is never acted upon.
    """
    folders = [staging_path / FILES, staging_path / BACKUPS]
    if any(f.is_symlink() or (f.exists() and not f.is_dir()) for f in folders):
        return None
    try:
        with open_regular(staging_path / JOURNAL, os.O_RDONLY, "rb") as stream:
            record = json.loads(stream.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(record, list):
        record = {"publish": record, "remove": []}
    if not isinstance(record, dict):
        return None
    names, removed, dirs = record.get("publish"), record.get("remove"), record.get("dirs", [])
    if not isinstance(names, list) or not isinstance(removed, list) or not isinstance(dirs, list):
        return None
    if not all(d in names[:-1] for d in dirs):
        return None
    if not names or names[-1] not in {MANIFEST_NAME, LEGACY_MANIFEST_NAME}:
        return None
    if not all(_is_target(directory, n) for n in [*names, *removed]):
        return None
    for name in [*names, *removed]:
        backup = staging_path / BACKUPS / name
        foreign = backup.is_symlink() or (backup.exists() and not backup.is_file())
        if foreign and not (name in dirs and _is_dir(backup)):
            return None
    return names, removed, dirs


def _is_target(directory: Path, name: object) -> bool:
    """``name`` is a plain file name (or the manifest) resolving inside ``directory``."""
    if not isinstance(name, str):
        return False
    if name not in {MANIFEST_NAME, LEGACY_MANIFEST_NAME}:
        try:
            check_filename(name)
        except InvalidFilenameError:
            return False
    target = Path(os.path.normpath(directory / name))
    return target.parent == Path(os.path.normpath(directory))
