"""Planning an export run: what to write, and the checks made before any COPY.

Every target of a run is checked before anything is written: two datasets may
not claim one file (compared ignoring case, across all formats of the run),
and no target may be an attached database file or its ``.wal``, a symlink, a
directory (unless the manifest lists it as a folder of Parquet files, see
``_export_parts``), or an existing file the directory's manifest does not list.
Paths are compared resolved (symlinks followed) and ignoring case, since
macOS and Windows file systems ignore case.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import duckdb

from ducksets._args import require_bool, require_instance, require_path, require_str
from ducksets._export_parts import PartOptions
from ducksets._export_results import FORMATS, ExportFailure, ExportFormat
from ducksets._publishing import fs_fold
from ducksets._s3 import is_url
from ducksets.errors import (
    ArgumentTypeError,
    InvalidArgumentError,
    InvalidFilenameError,
)
from ducksets.filenames import MANIFEST_NAME, check_filename
from ducksets.gateway import Gateway
from ducksets.manifest import manifest_entries
from ducksets.registry import catalog_table, unknown_dataset

# The first part of Path('s3://b/p'): 's3:'.
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Job:
    """One dataset to write in one format, under a checked file name."""

    name: str
    table_key: str
    is_view: bool
    fmt: ExportFormat
    filename: str
    parts: PartOptions | None = None
    """Set: export to a directory of Parquet files named ``filename`` (``_export_parts``)."""

    @property
    def kind(self) -> str:
        return "view" if self.is_view else "table"


def check_arguments(
    gateway: object,
    output_dir: object,
    fmt: object,
    datasets: object,
    progress: object,
    checksums: object,
) -> tuple[tuple[ExportFormat, ...], Path, list[str] | None]:
    """The checked arguments of an export: formats, directory, dataset names (a str is one)."""
    require_instance("gateway", gateway, Gateway, how="open_gateway(...)")
    directory = export_directory(output_dir, urls=True)
    require_bool("checksums", checksums)
    if progress is not None and not callable(progress):
        msg = f"progress must be callable or None, not {type(progress).__name__}"
        raise ArgumentTypeError(msg, parameter="progress", value=progress)
    names = None
    if datasets is not None:
        if not isinstance(datasets, Iterable):
            msg = f"datasets must be dataset names, not {type(datasets).__name__} {datasets!r}"
            raise ArgumentTypeError(msg, parameter="datasets", value=datasets)
        names = [datasets] if isinstance(datasets, str) else list(datasets)
        for name in names:
            require_str("datasets", name, what="a dataset name")
    return _check_formats(fmt), directory, names


def export_directory(output_dir: object, *, urls: bool) -> Path:
    """``output_dir`` as a local directory; an ``s3://`` URL only where ``urls`` (it is sent on).

    ``Path("s3://bucket/p")`` is the local path ``s3:/bucket/p`` (a path folds
    ``//``): refused with the fix rather than written as a local folder ``s3:``.
    """
    if not urls and is_url(output_dir):
        msg = (
            f"{output_dir} is a URL, and this writes a local directory's datapackage.json; "
            "an export to s3:// writes its own package"
        )
        raise InvalidArgumentError(msg, parameter="output_dir", value=output_dir)
    directory = Path(require_path("output_dir", output_dir, hint="give the export directory"))
    if isinstance(output_dir, PurePath) and _URL_SCHEME.fullmatch(directory.parts[0]):
        msg = (
            f"output_dir {str(output_dir)!r} is a path made from a URL (a path folds '//' "
            "into '/'); pass the URL as a str, such as 's3://bucket/prefix'"
        )
        raise InvalidArgumentError(msg, parameter="output_dir", value=output_dir)
    return directory


def _check_formats(fmt: object) -> tuple[ExportFormat, ...]:
    formats = (fmt,) if isinstance(fmt, str) else fmt
    if not isinstance(formats, Iterable):
        msg = f"fmt must be 'jsonl', 'parquet' or a sequence of them, not {fmt!r}"
        raise ArgumentTypeError(msg, parameter="fmt", value=fmt)
    checked: list[ExportFormat] = []
    for one in formats:
        if one not in FORMATS:
            msg = f"unknown export format {one!r}; use 'jsonl' or 'parquet'"
            raise InvalidArgumentError(msg, parameter="fmt", value=fmt)
        checked.append(one)
    if not checked:
        msg = "no export format given; use 'jsonl', 'parquet' or both"
        raise InvalidArgumentError(msg, parameter="fmt", value=fmt)
    return tuple(dict.fromkeys(checked))


_COLUMNS = "name, table_key, is_view, jsonl_filename, parquet_filename"


def plan_run(
    cursor: duckdb.DuckDBPyConnection,
    pack_schema: str,
    formats: tuple[ExportFormat, ...],
    names: Iterable[str] | None,
) -> list[Job | ExportFailure]:
    """What to write, read from the catalog as it is now; bad file names fail their dataset.

    Formats outer, names sorted inner. Every unknown name is refused up front.
    """
    table = catalog_table(pack_schema, "datasets")
    if names is None:
        where = " OR ".join(f"{fmt}_filename IS NOT NULL" for fmt in formats)
        rows = cursor.execute(f"SELECT {_COLUMNS} FROM {table} WHERE {where}").fetchall()
    else:
        wanted = list(dict.fromkeys([names] if isinstance(names, str) else names))
        rows = []
        if wanted:
            marks = ", ".join("?" * len(wanted))
            sql = f"SELECT {_COLUMNS} FROM {table} WHERE name IN ({marks})"
            rows = cursor.execute(sql, wanted).fetchall()
        found = {row[0] for row in rows}
        for name in wanted:
            if name not in found:
                known = [r[0] for r in cursor.execute(f"SELECT name FROM {table}").fetchall()]
                raise unknown_dataset(name, known)
    plan: list[Job | ExportFailure] = []
    for fmt in formats:
        for name, table_key, is_view, jsonl_name, parquet_name in sorted(rows):
            registered = jsonl_name if fmt == "jsonl" else parquet_name
            if names is None and registered is None:
                continue
            filename = registered if registered is not None else f"{name}.{fmt}"
            try:
                check_filename(filename)
            except InvalidFilenameError as exc:
                reason = f"{exc}; fix its {fmt}_filename in metadata.datasets"
                plan.append(ExportFailure(name, fmt, reason))
                continue
            plan.append(Job(name, table_key, bool(is_view), fmt, filename))
    return plan


def check_claims(jobs: Sequence[Job]) -> None:
    """Refuse the run when two jobs claim one file (compared ignoring case)."""
    claims: dict[str, Job] = {}
    for job in jobs:
        other = claims.setdefault(job.filename.casefold(), job)
        if other is not job:
            msg = (
                f"datasets {other.name!r} ({other.fmt}) and {job.name!r} ({job.fmt}) both claim "
                f"the file {job.filename!r}; nothing was exported. Give one of them another "
                f"{job.fmt}_filename in metadata.datasets"
            )
            raise InvalidFilenameError(msg, filename=job.filename)


def check_targets(
    cursor: duckdb.DuckDBPyConnection,
    directory: Path,
    jobs: Sequence[Job],
    entries: list[dict[str, Any]] | None = None,
) -> None:
    """Refuse the run when a target is not a file this export may replace.

    Also refuses a ``datapackage.json`` that ducksets did not write (``ExportError``).
    ``entries``: the directory's ``manifest_entries``, when the caller has just read them.
    """
    entries = manifest_entries(directory) if entries is None else entries
    listed = {e["file"].casefold(): e["file"] for e in entries}
    # A directory of Parquet files (``parts``) is replaced only when listed as one.
    folders = {e["file"].casefold() for e in entries if e.get("parts")}
    protected = _Protected(_protected_paths(cursor))
    present = _present_names(directory)
    base = f"{directory.resolve()}{os.sep}"
    for job in jobs:
        if present is None or fs_fold(job.filename) in present:
            why = _forbidden(directory / job.filename, base, protected, listed, folders)
        else:
            # Nothing by that name (a dangling symlink is listed too): only the
            # path itself can be forbidden; it resolves beside the directory.
            why = protected.by_text.get((base + job.filename).casefold())
        if why is not None:
            msg = (
                f"dataset {job.name!r} ({job.fmt}) would overwrite {directory / job.filename}, "
                f"which {why}; "
                f"nothing was exported. Give it another {job.fmt}_filename in "
                "metadata.datasets, or export to another directory"
            )
            raise InvalidFilenameError(msg, filename=job.filename)


class _Protected:
    """The attached database files and logs of a check, looked at once for all its targets."""

    def __init__(self, paths: list[tuple[Path, str]]) -> None:
        self.paths = paths
        self.by_text: dict[str, str] = {}
        """What each is, by its resolved path casefolded (macOS and Windows ignore case)."""
        self.by_id: dict[tuple[int, int], str] = {}
        """What each existing one is, by device and inode."""
        for path, what in paths:
            self.by_text.setdefault(str(path).casefold(), what)
            try:
                status = path.stat()
            except OSError:
                continue
            self.by_id.setdefault((status.st_dev, status.st_ino), what)


def _protected_paths(cursor: duckdb.DuckDBPyConnection) -> list[tuple[Path, str]]:
    """Every attached database file and its write-ahead log, resolved, with what it is."""
    rows = cursor.execute("SELECT path FROM duckdb_databases() WHERE path IS NOT NULL").fetchall()
    protected = []
    for (path,) in rows:
        if path:
            database = Path(path).resolve()
            protected.append((database, "is an attached database"))
            wal = database.with_name(f"{database.name}.wal")
            protected.append((wal, "is the write-ahead log of an attached database"))
    return protected


def _present_names(directory: Path) -> set[str] | None:
    """Every name in ``directory`` (symlinks included), casefolded; ``None``: cannot be listed."""
    try:
        with os.scandir(directory) as entries:
            return {fs_fold(entry.name) for entry in entries}
    except FileNotFoundError:
        return set()
    except OSError:
        return None  # every target gets the full check


def _forbidden(
    target: Path, base: str, protected: _Protected, listed: dict[str, str], folders: set[str]
) -> str | None:
    """Why ``target`` (in the directory resolved as ``base``) may not be written, or ``None``.

    One ``lstat`` answers for a target that is not a symlink (a re-export
    checks every file it replaces, twice); a symlink, or a target that cannot
    be looked at, is resolved and compared path by path.
    """
    try:
        status = target.lstat()
    except OSError:
        status = None
    if status is None or stat.S_ISLNK(status.st_mode):
        # Where it leads comes first: a link to the database is named as the database.
        why = protected.by_text.get(str(target.resolve()).casefold())
        if why is None:
            why = next((what for path, what in protected.paths if _same_file(target, path)), None)
        if why is None and status is not None:
            why = "is a symbolic link"
        return why
    why = protected.by_text.get((base + target.name).casefold())
    if why is not None:
        return why
    why = protected.by_id.get((status.st_dev, status.st_ino))
    if why is not None:
        return why
    spelled = listed.get(target.name.casefold())
    # The manifest may spell the name in another case (a file system ignoring case).
    same = spelled is not None and (
        spelled == target.name or _same_file(target, target.with_name(spelled))
    )
    if stat.S_ISDIR(status.st_mode) and target.name.casefold() in folders:
        return None if same else ("is a directory not listed in this directory's " + MANIFEST_NAME)
    if not stat.S_ISREG(status.st_mode):
        return "is a directory or other non-file"
    if not same:
        return f"exists and is not listed in this directory's {MANIFEST_NAME} (not a ducksets file)"
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False
