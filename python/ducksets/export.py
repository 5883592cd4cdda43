"""Catalog-driven exports: each dataset to a JSONL or Parquet file, and a manifest.

What to export and under which file name comes only from the catalog
(``metadata.datasets``), read as it is now (one query a run, on a cursor of
the gateway's connection, so threads may share a gateway). How comes from
the pack: ``metadata.dataset_export_sql`` builds the ``COPY``, and the
exporter runs it only after rebuilding the expected statement in Python and
finding it text-equal, so a tampered pack cannot run other SQL. DuckDB
streams the rows; Python never holds them. The ``COPY`` statements of a run
read one snapshot: every key is resolved (one catalog query) and every file
written in one transaction, whatever other connections drop or replace (a
dataset whose COPY fails ends it; the rest of the run takes a new one).

Nothing is lost, nothing written outside what was asked:

- Before any ``COPY``, every target of the run (all formats) is checked: two
  datasets may not claim one file, and no target may be an attached
  database file or its ``.wal``, a symlink, a directory (but a folder of
  Parquet files the manifest lists), or an existing file the directory's
  manifest does not list. Any of these refuses the whole run.
- ``partition_by``/``max_file_bytes`` make a Parquet dataset a folder of files
  named as its file (``ducksets._export_parts``), published all or nothing too.
- A run writes everything, data files and manifest, into a staging directory
  ``.ducksets-tmp-*``, then publishes it all or nothing, manifest last (see
  ``ducksets._staging`` and ``ducksets._publishing``). Staging left by a killed
  process is rolled back and removed by the next export into that directory.
- Publishing and the manifest merge hold the directory lock
  ``.ducksets.lock`` (``fcntl.flock``, POSIX only; on Windows exports run
  unlocked), so concurrent exports into one directory lose no entry.
- Every export, single-dataset ones too, records its files in
  ``datapackage.json``; earlier entries are kept only while they still describe
  their file byte for byte (``ducksets.manifest``).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import duckdb

from ducksets._args import require_instance, require_str
from ducksets._export_copy import DatasetFailedError, Finish, Stager
from ducksets._export_parts import apply_parts, check_part_options, check_partition_columns
from ducksets._export_plan import (
    Job,
    check_arguments,
    check_claims,
    check_targets,
    export_directory,
    plan_run,
)
from ducksets._export_results import (
    FORMATS,
    ExportedFile,
    ExportedPart,
    ExportFailure,
    ExportFormat,
    ExportOutcome,
    ExportResult,
)
from ducksets._publishing import publish
from ducksets._s3 import is_url
from ducksets._staging import Staging, directory_lock, open_staging, remove_dead_staging
from ducksets.errors import (
    ArgumentTypeError,
    ExportError,
    InvalidArgumentError,
    InvalidFilenameError,
)
from ducksets.filenames import LEGACY_MANIFEST_NAME, LOCK_NAME, MANIFEST_NAME, TEMP_PREFIX
from ducksets.gateway import Gateway
from ducksets.manifest import (
    describe_entries,
    described_entries,
    legacy_entries,
    manifest_entries,
    manifest_text,
    merge_entries,
    read_manifest,
    write_new,
)
from ducksets.pack import installed_version

__all__ = [
    "FORMATS",
    "LOCK_NAME",
    "MANIFEST_NAME",
    "TEMP_PREFIX",
    "ExportFailure",
    "ExportFormat",
    "ExportOutcome",
    "ExportResult",
    "ExportedFile",
    "ExportedPart",
    "export_all_jsonl",
    "export_all_parquet",
    "export_dataset_to_jsonl",
    "export_dataset_to_parquet",
    "export_datasets",
    "read_manifest",
    "write_dataset_manifest",
]


def export_dataset_to_jsonl(
    gateway: Gateway, name: str, output_dir: str | Path, *, checksums: bool = True
) -> ExportedFile:
    """Export dataset ``name`` to its JSONL file in ``output_dir``, recorded in the manifest.

    The file is listed in ``datapackage.json`` like any other export (earlier
    entries are kept), so every ducksets file in a directory is listed.

    Raises
    ------
    UnknownDatasetError
        No dataset has that name.
    InvalidFilenameError
        The target is not a file this export may write; nothing was written.
    ExportError
        The export failed; no file was left behind.
    """
    return _export_single(gateway, name, output_dir, "jsonl", checksums=checksums)


def export_dataset_to_parquet(
    gateway: Gateway, name: str, output_dir: str | Path, *, checksums: bool = True
) -> ExportedFile:
    """Export dataset ``name`` to its Parquet file in ``output_dir``, recorded in the manifest.

    Raises as ``export_dataset_to_jsonl``.
    """
    return _export_single(gateway, name, output_dir, "parquet", checksums=checksums)


class ExportAll(Protocol):
    """The signature of ``export_all_jsonl`` and ``export_all_parquet``."""

    def __call__(
        self,
        gateway: Gateway,
        output_dir: str | Path,
        datasets: Iterable[str] | None = None,
        *,
        progress: Callable[[ExportOutcome], None] | None = None,
        checksums: bool = True,
        partition_by: Mapping[str, Sequence[str]] | None = None,
        max_file_bytes: int | None = None,
    ) -> ExportResult: ...


def _export_all(fmt: ExportFormat, title: str) -> ExportAll:
    """``export_datasets`` with the format given: one definition serves both formats."""

    def export_all(gateway: Gateway, output_dir: str | Path, *args: Any, **kw: Any) -> ExportResult:
        return export_datasets(gateway, output_dir, fmt, *args, **kw)

    export_all.__name__ = export_all.__qualname__ = f"export_all_{fmt}"
    export_all.__doc__ = (
        f"Export datasets to {title} files, then write the manifest; see ``export_datasets``."
    )
    # help() and IDEs show the real parameters, those of ExportAll.__call__ without self.
    signature = inspect.signature(ExportAll.__call__)
    parameters = list(signature.parameters.values())[1:]
    export_all.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return export_all


export_all_jsonl = _export_all("jsonl", "JSONL")
export_all_parquet = _export_all("parquet", "Parquet")


def export_datasets(
    gateway: Gateway,
    output_dir: str | Path,
    fmt: ExportFormat | Sequence[ExportFormat],
    datasets: Iterable[str] | None = None,
    *,
    progress: Callable[[ExportOutcome], None] | None = None,
    checksums: bool = True,
    partition_by: Mapping[str, Sequence[str]] | None = None,
    max_file_bytes: int | None = None,
) -> ExportResult:
    """Export datasets to one file each per format, then publish them with ``datapackage.json``.

    A dataset that fails is listed in the result and does not stop the others;
    the files of the others are published together, manifest last.

    Parameters
    ----------
    gateway
        An open gateway; a read-only one is fine (exports only read).
    output_dir
        The directory for the files; created when missing. Or ``"s3://bucket/prefix"``
        (needs ``ducksets[s3]``): objects under ``<prefix>/<run-id>/``, the package last.
    fmt
        ``"jsonl"``, ``"parquet"``, or both: one run, one publish, one check of all names.
    datasets
        Dataset names to export; default: every dataset with a filename for each format.
    progress
        Called with each ``ExportedFile`` or ``ExportFailure``, in order, as it is staged.
    checksums
        Hash every file (SHA-256, in the manifest); ``False`` leaves ``sha256`` null.
    partition_by
        Parquet only: ``{"dataset": ["col", ...]}`` exports those datasets as a
        directory named as their Parquet file (``events.parquet/year=2024/data_0.parquet``),
        one folder per value (hive layout); the package lists every file.
    max_file_bytes
        Parquet only: every dataset of the run goes to a directory of files of
        about this size (checked per row group, so a file may exceed it by one).

    Returns
    -------
    ExportResult
        Files written, failures with reasons, and the manifest path.

    Raises
    ------
    UnknownDatasetError
        A name in ``datasets`` is not registered.
    InvalidFilenameError
        Two datasets claim one file, or a target is not this export's to replace.
    ExportError
        A foreign ``datapackage.json`` in ``output_dir``; staging or publishing failed.
    ArgumentTypeError, InvalidArgumentError
        An argument has the wrong type or value.

    After any of these, every old file and the old manifest are as they were.
    """
    formats, directory, names = check_arguments(
        gateway, output_dir, fmt, datasets, progress, checksums
    )
    split = check_part_options(formats, names, partition_by, max_file_bytes)
    if split is not None and is_url(output_dir):
        msg = "partition_by and max_file_bytes are not supported for s3:// targets yet"
        raise InvalidArgumentError(msg, parameter="output_dir", value=output_dir)
    if is_url(output_dir):  # s3://bucket/prefix: objects, then the package (_export_s3)
        from ducksets._export_s3 import export_to_url

        return export_to_url(gateway, str(output_dir), formats, names, progress, checksums)
    cursor = gateway.cursor()
    try:
        plan = plan_run(cursor, gateway.config.pack_schema, formats, names)
        if split is not None:
            plan = apply_parts(plan, split)
            check_partition_columns(cursor, [item for item in plan if isinstance(item, Job)])
        _check_targets_now(cursor, directory, [item for item in plan if isinstance(item, Job)])
        return _run(cursor, gateway.config.pack_schema, directory, plan, progress, checksums)
    finally:
        cursor.close()


def write_dataset_manifest(
    output_dir: str | Path,
    files: Sequence[ExportedFile],
    *,
    gateway: Gateway,
    keep_existing: bool = True,
) -> Path:
    """Write ``datapackage.json`` in ``output_dir`` atomically, describing ``files``.

    Holds the directory lock while merging and replacing, like an export; a
    legacy ``manifest.json`` ducksets wrote is migrated and removed.

    Parameters
    ----------
    output_dir
        The directory the files are in.
    files
        The files to list (their paths must be in ``output_dir``).
    gateway
        Gives the installed pack version and the comments (``description``).
    keep_existing
        Keep entries of the earlier manifest whose file still matches byte for byte.

    Returns
    -------
    Path
        The manifest's path.

    Raises
    ------
    InvalidArgumentError
        A file is not in ``output_dir`` (``parameter`` is ``files``).
    ExportError
        An existing ``datapackage.json`` is not one ducksets wrote.
    """
    directory = export_directory(output_dir, urls=False)
    fresh = _manifest_entries_of(directory, files)
    require_instance("gateway", gateway, Gateway, how="open_gateway(...)")
    cursor = gateway.cursor()
    try:
        version = installed_version(cursor, pack_schema=gateway.config.pack_schema)
        fresh = describe_entries(cursor, fresh)
    finally:
        cursor.close()
    with directory_lock(directory):
        staging = open_staging(directory)  # also rolls back and removes dead staging
        try:
            return _publish(directory, staging, fresh, version, keep_existing=keep_existing)
        finally:
            staging.close()


def _manifest_entries_of(directory: Path, files: object) -> dict[str, dict[str, Any]]:
    """The manifest entries of ``files`` by file name, each checked to lie in ``directory``."""
    if not isinstance(files, Sequence) or not all(isinstance(f, ExportedFile) for f in files):
        msg = f"files must be a sequence of ExportedFile, not {type(files).__name__}"
        raise ArgumentTypeError(msg, parameter="files", value=files)
    entries = {}
    for exported in files:
        if exported.path.parent.resolve() != directory.resolve():
            msg = f"{exported.path} is not in {directory}; a manifest lists files beside it"
            raise InvalidArgumentError(msg, parameter="files", value=exported.path)
        entries[exported.path.name] = exported.to_dict()
    return entries


def _publish(
    directory: Path,
    staging: Staging,
    fresh: dict[str, dict[str, Any]],
    version: str | None,
    *,
    keep_existing: bool,
    earlier: list[dict[str, Any]] | None = None,
) -> Path:
    """Merge and stage the manifest, then publish it with ``staging``'s files; lock held.

    ``fresh`` holds the new entries; their files are published too when staged.
    A legacy ``manifest.json`` ducksets wrote goes in the same publish.
    ``earlier``: the directory's manifest entries, read under this same lock.
    """
    entries = merge_entries(directory, fresh, keep_existing=keep_existing, earlier=earlier)
    target = directory / MANIFEST_NAME
    write_new(staging.manifest, manifest_text(entries, version), target=target)
    present = {entry.name for entry in os.scandir(staging.files)}
    staged = [name for name in fresh if name in present]
    legacy = [LEGACY_MANIFEST_NAME] if legacy_entries(directory) is not None else []
    publish(directory, staging, staged, remove=legacy)
    return target


def _check_targets_now(cursor: duckdb.DuckDBPyConnection, directory: Path, jobs: list[Job]) -> None:
    """Refuse the run before any COPY when a target is not this export's to write.

    Another export publishes its files just before its manifest, so a file
    seen between the two looks foreign: a refusal is confirmed under the
    directory lock. That lock file exists wherever an export has published,
    so without it the file cannot be another export's.
    """
    check_claims(jobs)
    try:
        check_targets(cursor, directory, jobs)
    except InvalidFilenameError:
        if not (directory / LOCK_NAME).is_file():
            raise
        with directory_lock(directory):
            check_targets(cursor, directory, jobs)


def _export_single(
    gateway: Gateway, name: str, output_dir: str | Path, fmt: ExportFormat, *, checksums: bool
) -> ExportedFile:
    require_str("name", name, what="a dataset name")
    result = export_datasets(gateway, output_dir, fmt, [name], checksums=checksums)
    if result.failed:
        msg = f"export of dataset {name!r} to {fmt} failed: {result.failed[0].reason}"
        raise ExportError(msg)
    return result.written[0]


def _run(
    cursor: duckdb.DuckDBPyConnection,
    pack_schema: str,
    directory: Path,
    plan: Sequence[Job | ExportFailure],
    progress: Callable[[ExportOutcome], None] | None,
    checksums: bool,
) -> ExportResult:
    """Stage every job, then publish the written files and the merged manifest together."""
    if not any(isinstance(item, Job) for item in plan):  # nothing to write: touch nothing
        return _outcomes(plan, progress, None)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with directory_lock(directory):
            staging = open_staging(directory)
    except ExportError:
        raise  # says what is wrong with the directory already
    except OSError as exc:
        msg = f"cannot write in {directory}: {exc}"
        raise ExportError(msg) from exc
    try:
        jobs = [item for item in plan if isinstance(item, Job)]
        with (
            ThreadPoolExecutor(1, thread_name_prefix="ducksets-sha256") as hasher,
            Stager(
                cursor, pack_schema, directory, staging.files, jobs, hasher if checksums else None
            ).transaction() as stager,
        ):
            staged = _outcomes(plan, progress, stager.stage)
        if not staged.written:
            return staged
        version = installed_version(cursor, pack_schema=pack_schema)
        with directory_lock(directory):
            remove_dead_staging(directory)
            # Another process may have published since the first check.
            done = {(f.dataset_name, f.format) for f in staged.written}
            jobs = [j for j in plan if isinstance(j, Job) and (j.name, j.fmt) in done]
            earlier = manifest_entries(directory)  # read once for the check and the merge
            check_targets(cursor, directory, jobs, earlier)
            entries = {f.path.name: f.to_dict() for f in staged.written}
            fresh = described_entries(entries, stager.descriptions)  # read in the run's snapshot
            target = _publish(
                directory, staging, fresh, version, keep_existing=True, earlier=earlier
            )
        return ExportResult(staged.written, staged.failed, target)
    finally:
        staging.close()


def _outcomes(
    plan: Sequence[Job | ExportFailure],
    progress: Callable[[ExportOutcome], None] | None,
    stage: Callable[[Job], Finish] | None,
) -> ExportResult:
    """Stage each job in order, reporting every outcome to ``progress``; no manifest yet.

    A job is completed (its checksum awaited) after the next one is staged,
    so hashing one file overlaps the next COPY; outcomes are still reported in
    plan order. A job that fails becomes an ``ExportFailure`` and the run goes on.
    """
    written: list[ExportedFile] = []
    failed: list[ExportFailure] = []
    waiting: list[tuple[Job, Finish]] = []

    def report(outcome: ExportOutcome) -> None:
        if isinstance(outcome, ExportedFile):
            written.append(outcome)
        else:
            failed.append(outcome)
        if progress is not None:
            progress(outcome)

    def settle() -> None:
        for job, finish in waiting:
            report(_attempt(job, finish))
        waiting.clear()

    for item in plan:
        if isinstance(item, ExportFailure) or stage is None:
            settle()
            report(item if isinstance(item, ExportFailure) else _failure(item, "not staged"))
            continue
        try:
            finish = stage(item)
        except DatasetFailedError as exc:
            settle()
            report(_failure(item, str(exc)))
            continue
        settle()  # the previous job's checksum ran beside this job's COPY
        waiting.append((item, finish))
    settle()
    return ExportResult(tuple(written), tuple(failed), None)


def _attempt(job: Job, finish: Finish) -> ExportOutcome:
    try:
        return finish()
    except DatasetFailedError as exc:
        return _failure(job, str(exc))


def _failure(job: Job, reason: str) -> ExportFailure:
    return ExportFailure(job.name, job.fmt, reason)
