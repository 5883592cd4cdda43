"""Exports to S3 (``s3://bucket/prefix``): data objects per run, the package document last.

An object store has no rename, so the package document
(``<prefix>/datapackage.json``) is the commit point. A run:

1. lists the prefix (which also proves the endpoint, the credentials and the
   bucket) and reads the live package with its ETag;
2. deletes orphans: objects under ``<prefix>/<run-id>/`` that the live package
   does not reference, once the grace period has passed since a package dropped
   them (the run's ``RETIRED`` marker) or, without a marker, since they were
   written (readers of an earlier package may still be reading; a run still
   writing must not lose its objects), and reports them;
3. writes each dataset with the pack's verified ``COPY`` (the statement
   ``dataset_export_sql`` builds, text-equal to the one rebuilt here) to
   ``<prefix>/<run-id>/<file>``, a run id never used before, all ``COPY``
   statements in one transaction (one snapshot), through ``s3fs`` registered on
   the connection (size and SHA-256 taken as the bytes go by) or, when the
   connection has httpfs loaded, through httpfs (then read back to hash); one
   catalog query in that transaction resolves every key and reads each
   relation's comments and a table's columns (``_export_copy.described_keys``,
   as a local run does), so the package describes each relation as the
   snapshot its object was written from held it;
4. writes the package only if it is still the one read (``If-Match``), merging
   the earlier entries whose objects still exist with their recorded size;
   another run's package in between is merged in, not overwritten.

Until step 4 the live package and its objects are untouched; a run that fails
deletes its own objects and leaves the package as it was. After it, the runs
whose objects the new package dropped get a ``RETIRED`` marker.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ducksets._comments import NO_COMMENTS, Comments
from ducksets._export_copy import (
    DatasetFailedError,
    Described,
    checked_copy,
    columns_now,
    described_keys,
    job_relation,
    pack_statement,
    parsed_keys,
    rows_written,
)
from ducksets._export_plan import Job, check_claims, plan_run
from ducksets._export_results import (
    ExportedFile,
    ExportFailure,
    ExportFormat,
    ExportOutcome,
    ExportResult,
)
from ducksets._query import fetch_one
from ducksets._s3 import ObjectStore, S3Target, is_s3_url, open_store, parse_s3_url
from ducksets._s3_package import entries_of_package, package_text
from ducksets._s3_runs import mark_retired, new_run_id, orphan_grace, remove_orphans
from ducksets.errors import (
    ExportError,
    InvalidArgumentError,
    ObjectStoreError,
    first_line,
)
from ducksets.filenames import MANIFEST_NAME
from ducksets.gateway import Gateway
from ducksets.keys import TableKey
from ducksets.manifest import described_entries
from ducksets.pack import installed_version
from ducksets.sqltext import qualified_name

_GLOB = re.compile(r"[*?\[]")
_PUBLISH_TRIES = 5
# DuckDB refuses a second file system for one protocol: runs that register take turns.
_REGISTRATION = threading.RLock()


@dataclass(frozen=True, repr=False)
class S3ExportedFile(ExportedFile):
    """An exported object: ``path`` is its path under the prefix (``<run-id>/<file>``)."""

    url: str = ""
    """``s3://bucket/prefix/<run-id>/<file>``"""


@dataclass(frozen=True, repr=False)
class S3ExportResult(ExportResult):
    """An S3 export run: ``manifest`` is ``None``; the package's URL is ``package_url``."""

    package_url: str | None = None
    """``s3://bucket/prefix/datapackage.json``; ``None`` when the run wrote no object."""
    removed: tuple[str, ...] = ()
    """URLs of the orphans this run deleted before writing."""

    def __repr__(self) -> str:
        package = self.package_url or "no package written"
        counts = f"{len(self.written)} written, {len(self.failed)} failed"
        lines = [f"<ExportResult: {counts}; {package}"]
        lines += [f"  {f.dataset_name}: {f.path} ({f.rows} rows)" for f in self.written]
        lines += [f"  {f.dataset_name}: FAILED {f.reason}" for f in self.failed]
        lines += [f"  removed orphan {url}" for url in self.removed]
        return "\n".join(lines) + ">"


def export_to_s3(
    cursor: duckdb.DuckDBPyConnection,
    pack_schema: str,
    target: S3Target,
    plan: Sequence[Job | ExportFailure],
    progress: Callable[[ExportOutcome], None] | None,
    checksums: bool,
) -> S3ExportResult:
    """Run ``plan`` into ``target`` (see the module); ``cursor`` has no transaction open."""
    jobs = [item for item in plan if isinstance(item, Job)]
    check_claims(jobs)
    if not jobs:  # nothing to write: touch nothing
        failed = tuple(item for item in plan if isinstance(item, ExportFailure))
        for failure in failed:
            if progress is not None:
                progress(failure)
        return S3ExportResult((), failed, None)
    grace = orphan_grace()
    store = open_store(target)
    listing = store.list_objects()
    live = store.read_text(MANIFEST_NAME) if MANIFEST_NAME in listing else None
    live_entries = entries_of_package(live[0], target.url_of(MANIFEST_NAME)) if live else []
    removed = remove_orphans(store, listing, live_entries, grace)
    run = new_run_id()
    try:
        with _writing_through(cursor, store) as hashed:
            copier = _Copier(cursor, pack_schema, store, run, jobs, hashed, checksums)
            written, failed = copier.run(plan, progress)
        if not written:
            store.delete(f"{run}/{job.filename}" for job in jobs)
            return S3ExportResult((), failed, None, removed=removed)
        version = installed_version(cursor, pack_schema=pack_schema)
        fresh = {f.path.name.casefold(): {**f.to_dict(), "file": str(f.path)} for f in written}
        # Described as the snapshot the objects were written from held each relation.
        fresh = described_entries(fresh, copier.descriptions)
        dropped = _publish(store, fresh, version, live)
    except BaseException:
        with contextlib.suppress(ObjectStoreError):
            store.delete(f"{run}/{job.filename}" for job in jobs)
        raise
    mark_retired(store, dropped)
    return S3ExportResult(
        written, failed, None, package_url=target.url_of(MANIFEST_NAME), removed=removed
    )


@contextlib.contextmanager
def _writing_through(cursor: duckdb.DuckDBPyConnection, store: ObjectStore) -> Iterator[bool]:
    """Let DuckDB write ``s3://`` through ``store``'s file system; yields True when it hashes.

    With httpfs loaded, or an ``s3`` file system registered already, DuckDB writes
    its own way and the objects are read back to be hashed.
    """
    if _httpfs_loaded(cursor):
        yield False
        return
    with _REGISTRATION:
        if "s3" in cursor.list_filesystems():
            yield False
            return
        cursor.register_filesystem(store.fs)
        try:
            yield True
        finally:
            cursor.unregister_filesystem("s3")


def _httpfs_loaded(cursor: duckdb.DuckDBPyConnection) -> bool:
    row = fetch_one(
        cursor,
        "SELECT count(*) FROM duckdb_extensions() WHERE extension_name = 'httpfs' AND loaded",
    )
    return row is not None and bool(row[0])


class _Copier:
    """Writes the jobs of one run to ``<run-id>/<file>`` under the target, in one transaction."""

    def __init__(
        self,
        cursor: duckdb.DuckDBPyConnection,
        pack_schema: str,
        store: ObjectStore,
        run: str,
        jobs: Sequence[Job],
        hashed: bool,
        checksums: bool,
    ) -> None:
        self.cursor = cursor
        self.macro = f"{qualified_name(pack_schema)}.dataset_export_sql"
        self.store = store
        self.run_id = run
        self.run_url = store.target.url_of(run)
        self.hashed = hashed
        self.checksums = checksums
        self.keys = parsed_keys(jobs)
        self.found = Described({}, {}, {}, set())
        """What the run's snapshot holds for its keys: relations, comments, columns."""
        self.descriptions: dict[str, Comments] = {}
        """By casefolded file name, the comments of each written dataset's relation, read
        in the snapshot its ``COPY`` read: what the package describes it with."""

    def run(
        self, plan: Sequence[Job | ExportFailure], progress: Callable[[ExportOutcome], None] | None
    ) -> tuple[tuple[S3ExportedFile, ...], tuple[ExportFailure, ...]]:
        """Write every job in plan order, reporting each outcome; one snapshot for all."""
        written: list[S3ExportedFile] = []
        failed: list[ExportFailure] = []
        self._begin()
        try:
            for item in plan:
                outcome: S3ExportedFile | ExportFailure
                if isinstance(item, ExportFailure):
                    outcome = item
                else:
                    try:
                        outcome = self._write(item)
                    except DatasetFailedError as exc:
                        outcome = ExportFailure(item.name, item.fmt, str(exc))
                if isinstance(outcome, S3ExportedFile):
                    written.append(outcome)
                else:
                    failed.append(outcome)
                if progress is not None:
                    progress(outcome)
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                self.cursor.execute("ROLLBACK")
            raise
        self.cursor.execute("COMMIT")
        return tuple(written), tuple(failed)

    def _begin(self) -> None:
        """Begin the transaction; in it, resolve every key and read comments and columns."""
        self.cursor.execute("BEGIN TRANSACTION")
        self.found = described_keys(self.cursor, self.keys)

    def _write(self, job: Job) -> S3ExportedFile:
        start = time.perf_counter()
        key, relation = job_relation(job, self.keys, self.found.relations)
        if _GLOB.search(job.filename):
            msg = (
                f"file name {job.filename!r} holds a character DuckDB expands in an s3:// URL "
                f"(* ? [), so the object could not be read back; give it another "
                f"{job.fmt}_filename in metadata.datasets"
            )
            raise DatasetFailedError(msg)
        relative = f"{self.run_id}/{job.filename}"
        url = self.store.target.url_of(relative)
        try:
            copy_sql = self._verified_copy(job, key, url)
            rows = rows_written(self.cursor.execute(copy_sql).fetchall())
            columns = self.found.table_columns.get(relation) or columns_now(self.cursor, key)
        except duckdb.Error as exc:
            self.cursor.execute("ROLLBACK")
            self._begin()
            # DuckDB closes the file it failed to finish: s3fs then uploads what it got.
            if self.hashed:
                self.store.fs.take_digest(url)
            with contextlib.suppress(ObjectStoreError):
                self.store.delete([relative])
            raise DatasetFailedError(first_line(exc)) from exc
        size, sha256 = self._facts(relative, url)
        self.descriptions[job.filename.casefold()] = self.found.comments.get(
            job.table_key, NO_COMMENTS
        )
        return S3ExportedFile(
            dataset_name=job.name,
            table_key=job.table_key,
            kind=job.kind,
            format=job.fmt,
            path=Path(relative),
            rows=rows,
            bytes=size,
            sha256=sha256 if self.checksums else None,
            seconds=time.perf_counter() - start,
            columns=columns,
            mtime_ns=None,
            url=url,
        )

    def _facts(self, relative: str, url: str) -> tuple[int, str | None]:
        """Size and SHA-256 of the object just written: as it was written, else read back."""
        digest: tuple[int, str] | None = self.store.fs.take_digest(url) if self.hashed else None
        if digest is not None:
            return digest
        if self.checksums:
            return self.store.digest(relative)
        with self.store.translating(url, "read"):
            info = self.store.fs.info(url.removeprefix("s3://"), refresh=True)
        return int(info["size"]), None

    def _verified_copy(self, job: Job, key: TableKey, url: str) -> str:
        """The pack's COPY for ``job`` into the run, run only when exactly the one expected."""
        statement = pack_statement(self.cursor, self.macro, job, self.run_url)
        return checked_copy(self.cursor, self.macro, statement, job, key, url)


def _publish(
    store: ObjectStore,
    fresh: dict[str, dict[str, Any]],
    version: str | None,
    live: tuple[str, str] | None,
) -> list[str]:
    """Write the package: ``fresh`` entries (by casefolded file name) plus the live package's
    entries whose objects are still there with their size, if the package is unchanged.

    When another run committed since ``live`` was read, its package is merged in
    instead (re-read, re-listed) and the write is tried again. Returns the paths
    the replaced package listed and the new one does not.
    """
    url = store.target.url_of(MANIFEST_NAME)
    for _ in range(_PUBLISH_TRIES):
        earlier = entries_of_package(live[0], url) if live else []
        listing = store.list_objects() if earlier else {}
        entries = dict(fresh)
        for entry in earlier:
            name = entry["file"].rsplit("/", 1)[-1].casefold()
            info = listing.get(entry["file"])
            if name not in entries and info is not None and info.size == entry.get("bytes"):
                entries[name] = entry
        text = package_text(sorted(entries.values(), key=lambda e: str(e["file"])), version)
        if _committed(store, text, replacing=live[1] if live else None):
            kept = {str(entry["file"]) for entry in entries.values()}
            return [str(e["file"]) for e in earlier if e["file"] not in kept]
        live = store.read_text(MANIFEST_NAME)  # another run committed: merge its package
    msg = (
        f"{url} kept changing while this run tried to write it ({_PUBLISH_TRIES} tries); "
        "other exports write the same prefix: export again"
    )
    raise ExportError(msg)


def _committed(store: ObjectStore, text: str, *, replacing: str | None) -> bool:
    """Write the package; False when another run's came first.

    A request that failed may still have been applied (the reply was lost): the
    package is read back, and when it is this text the run has committed (its
    objects must then stay).
    """
    try:
        return store.write_text(MANIFEST_NAME, text, replacing=replacing)
    except ObjectStoreError:
        with contextlib.suppress(ObjectStoreError):
            now = store.read_text(MANIFEST_NAME)
            if now is not None and now[0] == text:
                return True
        raise


def export_to_url(
    gateway: Gateway,
    output_dir: str,
    formats: tuple[ExportFormat, ...],
    names: list[str] | None,
    progress: Callable[[ExportOutcome], None] | None,
    checksums: bool,
) -> S3ExportResult:
    """``export_datasets`` into a URL target (arguments checked already); only ``s3://``.

    Raises
    ------
    InvalidArgumentError
        Another scheme, or not a usable ``s3://bucket/prefix``.
    """
    if not is_s3_url(output_dir):
        scheme = output_dir.split("://", 1)[0]
        msg = (
            f"output_dir {output_dir!r}: {scheme}:// is not supported; "
            "export to s3://bucket/prefix or to a local directory"
        )
        raise InvalidArgumentError(msg, parameter="output_dir", value=output_dir)
    target = parse_s3_url(output_dir)
    cursor = gateway.cursor()
    try:
        plan = plan_run(cursor, gateway.config.pack_schema, formats, names)
        return export_to_s3(cursor, gateway.config.pack_schema, target, plan, progress, checksums)
    finally:
        cursor.close()
