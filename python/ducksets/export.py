"""Catalog-driven exports: each dataset to a JSONL or Parquet file, and a manifest.

What to export and under which file name comes only from the catalog
(``metadata.datasets``); how comes only from the pack: every file is written by
exactly the ``COPY`` statement that ``metadata.dataset_export_sql`` builds, so
SQL users and Python users get the same files. DuckDB streams the rows; Python
never holds them.

A file appears whole or not at all: DuckDB writes it into a fresh directory
``.ducksets-tmp-*`` inside the output directory, and only a finished file is
moved into place (``os.replace``, atomic on one file system). The temporary
directory is removed whatever happens.

The manifest (``manifest.json``) indexes the ducksets files in a directory.
Each export run replaces the entries of the files it wrote and keeps earlier
entries whose file is still there with the size recorded, so exporting JSONL
and then Parquet into one directory leaves one manifest listing both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import duckdb

from ducksets._html import html_table
from ducksets._query import fetch_one
from ducksets.catalog import Dataset, check_filename, unknown_dataset_message
from ducksets.errors import DucksetsError, ExportError, UnknownDatasetError
from ducksets.gateway import Gateway
from ducksets.keys import parse_table_key
from ducksets.pack import installed_version, pack_version
from ducksets.sqltext import qualified_name

ExportFormat = Literal["jsonl", "parquet"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "parquet")
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
TEMP_PREFIX = ".ducksets-tmp-"


@dataclass(frozen=True)
class ExportedFile:
    """One dataset written to one file."""

    dataset_name: str
    table_key: str
    kind: str
    """``table`` or ``view``"""
    format: ExportFormat
    path: Path
    rows: int
    bytes: int
    sha256: str | None
    """hex SHA-256 of the file; ``None`` when exported with ``checksums=False``"""
    seconds: float
    columns: tuple[tuple[str, str], ...]
    """(name, DuckDB type) of each column, as the relation binds now"""

    def __repr__(self) -> str:
        return (
            f"<ExportedFile {self.dataset_name!r} -> {self.path}: "
            f"{self.rows} rows, {self.bytes} bytes, {self.seconds:.2f}s>"
        )


@dataclass(frozen=True)
class ExportFailure:
    """One dataset that was not written, and why; no file of it was left behind."""

    dataset_name: str
    format: ExportFormat
    reason: str

    def __repr__(self) -> str:
        return f"<ExportFailure {self.dataset_name!r} ({self.format}): {self.reason}>"


ExportOutcome: TypeAlias = ExportedFile | ExportFailure
"""What ``progress`` receives once per dataset."""


@dataclass(frozen=True)
class ExportResult:
    """The files an export run wrote, the datasets it could not write, and its manifest."""

    written: tuple[ExportedFile, ...]
    failed: tuple[ExportFailure, ...]
    manifest: Path | None
    """``None`` when the run wrote no file (and so left any manifest as it was)."""

    @property
    def ok(self) -> bool:
        """True when every selected dataset was written."""
        return not self.failed

    def __repr__(self) -> str:
        manifest = "no manifest" if self.manifest is None else f"manifest {self.manifest}"
        lines = [
            f"<ExportResult: {len(self.written)} written, {len(self.failed)} failed; {manifest}"
        ]
        lines += [f"  {f.dataset_name}: {f.path.name} ({f.rows} rows)" for f in self.written]
        lines += [f"  {f.dataset_name}: FAILED {f.reason}" for f in self.failed]
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        columns = ("dataset", "format", "status", "file", "rows", "bytes", "reason")
        rows: list[tuple[object, ...]] = [
            (f.dataset_name, f.format, "written", f.path.name, f.rows, f.bytes, None)
            for f in self.written
        ]
        rows += [
            (f.dataset_name, f.format, "failed", None, None, None, f.reason) for f in self.failed
        ]
        caption = f"export: {len(self.written)} written, {len(self.failed)} failed"
        return html_table(columns, rows, caption=caption)


class _DatasetFailedError(Exception):
    """A dataset could not be exported; the message is the reason shown to the user."""


def export_dataset_to_jsonl(
    gateway: Gateway, name: str, output_dir: str | Path, *, checksums: bool = True
) -> ExportedFile:
    """Export dataset ``name`` to its JSONL file in ``output_dir``; no manifest is written.

    Raises
    ------
    UnknownDatasetError
        No dataset has that name.
    ExportError
        The export failed; no file was left behind.
    """
    return _export_single(gateway, name, Path(output_dir), "jsonl", checksums=checksums)


def export_dataset_to_parquet(
    gateway: Gateway, name: str, output_dir: str | Path, *, checksums: bool = True
) -> ExportedFile:
    """Export dataset ``name`` to its Parquet file in ``output_dir``; no manifest is written.

    Raises
    ------
    UnknownDatasetError
        No dataset has that name.
    ExportError
        The export failed; no file was left behind.
    """
    return _export_single(gateway, name, Path(output_dir), "parquet", checksums=checksums)


def export_all_jsonl(
    gateway: Gateway,
    output_dir: str | Path,
    datasets: Iterable[str] | None = None,
    *,
    progress: Callable[[ExportOutcome], None] | None = None,
    checksums: bool = True,
) -> ExportResult:
    """Export datasets to JSONL files, then write the manifest; see ``export_datasets``."""
    return export_datasets(
        gateway, output_dir, "jsonl", datasets, progress=progress, checksums=checksums
    )


def export_all_parquet(
    gateway: Gateway,
    output_dir: str | Path,
    datasets: Iterable[str] | None = None,
    *,
    progress: Callable[[ExportOutcome], None] | None = None,
    checksums: bool = True,
) -> ExportResult:
    """Export datasets to Parquet files, then write the manifest; see ``export_datasets``."""
    return export_datasets(
        gateway, output_dir, "parquet", datasets, progress=progress, checksums=checksums
    )


def export_datasets(
    gateway: Gateway,
    output_dir: str | Path,
    fmt: ExportFormat,
    datasets: Iterable[str] | None = None,
    *,
    progress: Callable[[ExportOutcome], None] | None = None,
    checksums: bool = True,
) -> ExportResult:
    """Export datasets to one file each, then write ``manifest.json`` beside them.

    A dataset that fails is listed in the result and does not stop the others.

    Parameters
    ----------
    gateway
        An open gateway, writable or read-only (exports only read the database).
    output_dir
        The directory for the files; created when missing.
    fmt
        ``"jsonl"`` or ``"parquet"``.
    datasets
        Dataset names to export; default: every dataset with a filename for ``fmt``.
    progress
        Called once per dataset, in order, with its ``ExportedFile`` or ``ExportFailure``.
    checksums
        Hash every file (SHA-256, in the manifest). Reading the file back costs
        about 0.6 ms per MB, a quarter to a third of DuckDB's own write time;
        ``False`` leaves ``sha256`` null and exports at bare ``COPY`` speed.

    Returns
    -------
    ExportResult
        Files written, failures with reasons, and the manifest path.

    Raises
    ------
    UnknownDatasetError
        A name in ``datasets`` is not registered; nothing was written.
    DucksetsError
        ``fmt`` is unknown, or ``output_dir`` holds a ``manifest.json`` that
        ducksets did not write; nothing was written.
    """
    _check_format(fmt)
    directory = Path(output_dir)
    selected = _select(gateway, fmt, datasets)
    _read_manifest(directory)  # refuse a foreign manifest.json before writing anything
    written: list[ExportedFile] = []
    failed: list[ExportFailure] = []
    claimed: dict[str, str] = {}
    for dataset in selected:
        outcome: ExportOutcome
        try:
            filename = _filename(gateway, dataset, fmt)
            other = claimed.setdefault(filename.casefold(), dataset.name)
            if other != dataset.name:
                msg = f"file name {filename!r} is also the {fmt} file of dataset {other!r}"
                raise _DatasetFailedError(msg)
            outcome = _copy(gateway, dataset, filename, directory, fmt, checksums=checksums)
            written.append(outcome)
        except _DatasetFailedError as exc:
            outcome = ExportFailure(dataset.name, fmt, str(exc))
            failed.append(outcome)
        if progress is not None:
            progress(outcome)
    manifest = write_dataset_manifest(directory, written, gateway=gateway) if written else None
    return ExportResult(tuple(written), tuple(failed), manifest)


def write_dataset_manifest(
    output_dir: str | Path,
    files: Sequence[ExportedFile],
    *,
    gateway: Gateway,
    keep_existing: bool = True,
) -> Path:
    """Write ``manifest.json`` in ``output_dir`` atomically, describing ``files``.

    Parameters
    ----------
    output_dir
        The directory the files are in.
    files
        The files to list (their paths must be in ``output_dir``).
    gateway
        Gives the installed pack version.
    keep_existing
        Keep entries of an earlier manifest for other files that are still
        present with the recorded size (a JSONL run keeps the Parquet entries).

    Returns
    -------
    Path
        The manifest's path.

    Raises
    ------
    DucksetsError
        A file is not in ``output_dir``, or an existing ``manifest.json`` is not
        a ducksets manifest.
    """
    directory = Path(output_dir)
    entries: dict[str, dict[str, Any]] = {}
    for exported in files:
        if exported.path.parent.resolve() != directory.resolve():
            msg = f"{exported.path} is not in {directory}; a manifest lists files beside it"
            raise DucksetsError(msg)
        entries[exported.path.name] = _manifest_entry(exported)
    if keep_existing:
        for entry in _read_manifest(directory):
            file = entry.get("file")
            if isinstance(file, str) and file not in entries and _still_there(directory, entry):
                entries[file] = entry
    con = gateway.con
    manifest = {
        "ducksets_manifest": MANIFEST_FORMAT,
        "pack_version": pack_version(),
        "installed_pack_version": installed_version(con, schema=gateway.config.pack_schema),
        "duckdb_version": duckdb.__version__,
        "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "datasets": [entries[file] for file in sorted(entries)],
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    path = directory / MANIFEST_NAME
    # Opened with "x" (not mkstemp) so the manifest gets the usual permissions.
    temporary = directory / f"{TEMP_PREFIX}{secrets.token_hex(8)}.json"
    try:
        with temporary.open("x", encoding="utf-8") as out:
            out.write(text)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def read_manifest(output_dir: str | Path) -> Mapping[str, Any] | None:
    """The manifest in ``output_dir`` as parsed JSON, or ``None`` when there is none.

    Raises
    ------
    DucksetsError
        ``manifest.json`` exists but is not a ducksets manifest.
    """
    path = Path(output_dir) / MANIFEST_NAME
    if not path.exists():
        return None
    try:
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


def _export_single(
    gateway: Gateway, name: str, output_dir: Path, fmt: ExportFormat, *, checksums: bool
) -> ExportedFile:
    (dataset,) = _select(gateway, fmt, [name])
    try:
        filename = _filename(gateway, dataset, fmt)
        return _copy(gateway, dataset, filename, output_dir, fmt, checksums=checksums)
    except _DatasetFailedError as exc:
        msg = f"export of dataset {name!r} to {fmt} failed: {exc}"
        raise ExportError(msg) from exc


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        msg = f"unknown export format {fmt!r}; use 'jsonl' or 'parquet'"
        raise DucksetsError(msg)


def _select(gateway: Gateway, fmt: ExportFormat, names: Iterable[str] | None) -> list[Dataset]:
    """The datasets to export, sorted by name; every unknown name is refused up front."""
    registry = gateway.datasets
    if names is None:
        by_format = registry.jsonl_mapping if fmt == "jsonl" else registry.parquet_mapping
        return [registry.meta[n] for n, key in sorted(registry.mapping.items()) if key in by_format]
    wanted = list(dict.fromkeys([names] if isinstance(names, str) else names))
    for name in wanted:
        if name not in registry.meta:
            raise UnknownDatasetError(unknown_dataset_message(name, registry.meta))
    return [registry.meta[n] for n in sorted(wanted)]


def _macro(gateway: Gateway, macro: str) -> str:
    return f"{qualified_name(gateway.config.pack_schema)}.{macro}"


def _filename(gateway: Gateway, dataset: Dataset, fmt: ExportFormat) -> str:
    """The dataset's file name as the pack resolves it, checked to be a plain name."""
    try:
        row = fetch_one(
            gateway.con,
            f"SELECT {_macro(gateway, 'dataset_filename')}(?, fmt := ?)",
            [dataset.name, fmt],
        )
    except duckdb.Error as exc:
        raise _DatasetFailedError(_first_line(exc)) from exc
    if row is None or row[0] is None:
        msg = "no longer in the catalog; refresh the gateway (gateway.refresh())"
        raise _DatasetFailedError(msg)
    filename = str(row[0])
    try:
        check_filename(filename)
    except DucksetsError as exc:
        msg = f"{exc}; fix its {fmt}_filename in metadata.datasets"
        raise _DatasetFailedError(msg) from exc
    if filename == MANIFEST_NAME or filename.startswith(TEMP_PREFIX):
        msg = f"file name {filename!r} is reserved for ducksets; choose another {fmt}_filename"
        raise _DatasetFailedError(msg)
    return filename


def _copy(
    gateway: Gateway,
    dataset: Dataset,
    filename: str,
    output_dir: Path,
    fmt: ExportFormat,
    *,
    checksums: bool = True,
) -> ExportedFile:
    """Run the pack's COPY into a temporary directory, then move the whole file into place."""
    start = time.perf_counter()
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=output_dir))
    except OSError as exc:
        msg = f"cannot write in {output_dir}: {exc}"
        raise _DatasetFailedError(msg) from exc
    try:
        copy_sql = _export_sql(gateway, dataset, fmt, staging)
        try:
            rows = _rows_written(gateway.con.execute(copy_sql).fetchall())
        except duckdb.Error as exc:
            raise _DatasetFailedError(_first_line(exc)) from exc
        produced = staging / filename
        if not produced.is_file():
            msg = f"DuckDB wrote no file {filename!r}"
            raise _DatasetFailedError(msg)
        size, digest = _digest(produced) if checksums else (produced.stat().st_size, None)
        columns = _columns(gateway.con, dataset)
        target = output_dir / filename
        try:
            produced.replace(target)
        except OSError as exc:
            msg = f"cannot move the finished file to {target}: {exc}"
            raise _DatasetFailedError(msg) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportedFile(
        dataset_name=dataset.name,
        table_key=dataset.table_key,
        kind=dataset.kind,
        format=fmt,
        path=target,
        rows=rows,
        bytes=size,
        sha256=digest,
        seconds=time.perf_counter() - start,
        columns=columns,
    )


def _export_sql(gateway: Gateway, dataset: Dataset, fmt: ExportFormat, directory: Path) -> str:
    """The COPY statement of the pack's ``dataset_export_sql``, names and path bound."""
    try:
        row = fetch_one(
            gateway.con,
            f"SELECT {_macro(gateway, 'dataset_export_sql')}(?, fmt := ?, output_dir := ?)",
            [dataset.name, fmt, directory.as_posix()],
        )
    except duckdb.Error as exc:
        raise _DatasetFailedError(_first_line(exc)) from exc
    if row is None or row[0] is None:
        msg = "no longer in the catalog; refresh the gateway (gateway.refresh())"
        raise _DatasetFailedError(msg)
    return str(row[0])


def _rows_written(result: list[tuple[Any, ...]]) -> int:
    # COPY ... TO returns one row whose first column is the number of rows
    # written (DuckDB 1.2 and later; RETURN_STATS would add more columns).
    if not result or not isinstance(result[0][0], int):
        msg = f"unexpected COPY result {result!r}"
        raise _DatasetFailedError(msg)
    return int(result[0][0])


def _columns(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> tuple[tuple[str, str], ...]:
    """Column names and types as DuckDB binds the relation now (true for views too)."""
    try:
        relation = con.sql(f"SELECT * FROM {parse_table_key(dataset.table_key).sql()} LIMIT 0")
        return tuple(zip(relation.columns, (str(t) for t in relation.types), strict=True))
    except (duckdb.Error, DucksetsError) as exc:
        raise _DatasetFailedError(_first_line(exc)) from exc


def _digest(path: Path) -> tuple[int, str]:
    sha = hashlib.sha256()
    size = 0
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as stream:
        while count := stream.readinto(view):
            sha.update(view[:count])
            size += count
    return size, sha.hexdigest()


def _manifest_entry(exported: ExportedFile) -> dict[str, Any]:
    return {
        "name": exported.dataset_name,
        "table_key": exported.table_key,
        "kind": exported.kind,
        "file": exported.path.name,
        "format": exported.format,
        "rows": exported.rows,
        "bytes": exported.bytes,
        "sha256": exported.sha256,
        "columns": [{"name": name, "type": type_} for name, type_ in exported.columns],
    }


def _read_manifest(directory: Path) -> list[dict[str, Any]]:
    """The entries of the manifest in ``directory``; none when it has no manifest."""
    manifest = read_manifest(directory)
    if manifest is None:
        return []
    return [e for e in manifest["datasets"] if isinstance(e, dict)]


def _still_there(directory: Path, entry: Mapping[str, Any]) -> bool:
    file = entry["file"]
    try:
        check_filename(file)
        return bool((directory / file).stat().st_size == entry.get("bytes"))
    except (DucksetsError, OSError):
        return False


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
