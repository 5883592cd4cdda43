"""The export manifest (``manifest.json``): read, merge and write.

The manifest lists every ducksets file in a directory, one entry per file:
dataset, format, rows, bytes, SHA-256, columns, and ``mtime_ns``. An entry is
kept from an earlier run only while it still describes its file byte for
byte: size and ``st_mtime_ns`` unchanged, or, when they moved, the file still
hashes to the recorded SHA-256 (then ``mtime_ns`` is refreshed). Anything else
is dropped. (A same-size rewrite within one tick of a coarse file-system clock
keeps ``mtime_ns``; pass ``keep_existing=False`` to list only fresh files.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from ducksets.errors import ExportError, InvalidFilenameError
from ducksets.filenames import MANIFEST_NAME, check_filename
from ducksets.pack import pack_version

MANIFEST_FORMAT = 1
_CHUNK = 1 << 20


def read_manifest(output_dir: str | Path) -> Mapping[str, Any] | None:
    """The manifest in ``output_dir`` as parsed JSON, or ``None`` when there is none.

    Raises
    ------
    ExportError
        ``manifest.json`` exists but is not a ducksets manifest.
    """
    path = Path(output_dir) / MANIFEST_NAME
    if not path.exists() and not path.is_symlink():
        return None
    try:
        if path.is_symlink() or not path.is_file():
            raise ValueError("not a regular file")
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path} is not a ducksets manifest ({exc}); move it away or export elsewhere"
        raise ExportError(msg) from exc
    if (
        not isinstance(manifest, dict)
        or "ducksets_manifest" not in manifest
        or not isinstance(manifest.get("datasets"), list)
    ):
        msg = f"{path} is not a ducksets manifest; move it away or export elsewhere"
        raise ExportError(msg)
    return manifest


def manifest_entries(directory: Path) -> list[dict[str, Any]]:
    """The entries of the manifest in ``directory`` that name a plain file; none without one."""
    manifest = read_manifest(directory)
    if manifest is None:
        return []
    return [e for e in manifest["datasets"] if isinstance(e, dict) and _plain(e.get("file"))]


def _plain(file: object) -> bool:
    try:
        return isinstance(file, str) and check_filename(file) is not None
    except InvalidFilenameError:
        return False


def still_exact(directory: Path, entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """``entry`` (``mtime_ns`` refreshed if needed) when its file still matches, else ``None``."""
    path = directory / entry["file"]
    try:
        status = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode) or status.st_size != entry.get("bytes"):
        return None
    if status.st_mtime_ns == entry.get("mtime_ns"):
        return dict(entry)
    recorded = entry.get("sha256")
    if not isinstance(recorded, str):
        return None  # nothing to compare the changed file with
    try:
        _, digest = file_digest(path)
    except OSError:
        return None
    return {**entry, "mtime_ns": status.st_mtime_ns} if digest == recorded else None


def merge_entries(
    directory: Path, fresh: Mapping[str, Mapping[str, Any]], *, keep_existing: bool
) -> list[dict[str, Any]]:
    """The fresh entries plus the earlier ones still exact, sorted by file name."""
    entries = {file: dict(entry) for file, entry in fresh.items()}
    if keep_existing:
        taken = {file.casefold() for file in entries}
        for entry in manifest_entries(directory):
            if entry["file"].casefold() in taken:
                continue
            kept = still_exact(directory, entry)
            if kept is not None:
                entries[entry["file"]] = kept
                taken.add(entry["file"].casefold())
    return [entries[file] for file in sorted(entries)]


def manifest_text(entries: list[dict[str, Any]], installed_pack_version: str | None) -> str:
    """The manifest document listing ``entries``, as JSON text."""
    manifest = {
        "ducksets_manifest": MANIFEST_FORMAT,
        "pack_version": pack_version(),
        "installed_pack_version": installed_pack_version,
        "duckdb_version": duckdb.__version__,
        "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "datasets": [],
    }
    # One line per file: json's C encoder writes compact text only, and the
    # indented encoder (pure Python) took longer than the COPYs of tiny datasets.
    head = json.dumps(manifest, indent=2, ensure_ascii=False)[: -len("[]\n}")]
    lines = ",\n".join(f"    {json.dumps(e, ensure_ascii=False)}" for e in entries)
    return f"{head}[\n{lines}\n  ]\n}}\n" if entries else f"{head}[]\n}}\n"


def write_new(path: Path, text: str, *, target: Path) -> None:
    """Write ``text`` to a new file ``path`` (staging for ``target``), flushed to disk.

    Raises
    ------
    ExportError
        The write failed (disk full, file-size limit, ...); names the path and the cause.
    """
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        msg = (
            f"cannot write {target} (staged at {path}): {exc.strerror or exc}; "
            "nothing was published, every file and the manifest are as before"
        )
        raise ExportError(msg) from exc


def file_digest(path: Path) -> tuple[int, str]:
    """Size and hex SHA-256 of the file at ``path``, read in 1 MiB chunks.

    ``hashlib`` releases the GIL while hashing a chunk, so this runs beside a
    ``COPY`` in another thread. No buffer is allocated up front: for the many
    small files of a run that costs more than the hash.
    """
    sha = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        while chunk := os.read(fd, _CHUNK):
            sha.update(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return size, sha.hexdigest()
