"""Staging the jobs of an export run: each dataset's verified ``COPY``, and its file's facts.

The pack's ``metadata.dataset_export_sql`` builds each ``COPY``. A run asks it
for every job's statement in one query, and runs a statement only after
finding it text-equal to the one rebuilt here (the key with every part
quoted, the staged path as a literal), so a tampered pack cannot run other
SQL. The staging runs in one transaction: one catalog query in it resolves every
key (``find_relations``' rule) and reads each relation's comments, a table's
columns and its estimated size (``_comments.described_relations``), so each
``COPY`` reads the very relation found, and the package describes it as it
was, from the same snapshot, even while other connections drop, replace or
comment on tables. A file's SHA-256 is computed in a thread while its own
``COPY`` writes it (``_hashing.Tail``: ``hashlib`` and file reads release the
GIL), and what is left of it once the ``COPY`` returns while the next ``COPY``
runs. A table of at most ``SMALL_TABLE_ROWS`` rows (by DuckDB's estimate) is
not tailed: its file is hashed once its ``COPY`` returns, since starting and
stopping a thread costs more than the hash of a small file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ducksets._comments import NO_COMMENTS, Comments, described_relations
from ducksets._export_plan import Job
from ducksets._export_results import ExportedFile
from ducksets._hashing import Tail
from ducksets._introspect import Relation, database_path
from ducksets._query import fetch_one
from ducksets.errors import InvalidTableKeyError, first_line
from ducksets.keys import TableKey, parse_table_key
from ducksets.sqltext import qualified_name, quote_literal

_COPY_FORMAT = {"jsonl": "JSON", "parquet": "PARQUET"}

Finish = Callable[[], ExportedFile]
"""Completes a staged job (waits for its checksum); raises ``DatasetFailedError``."""
Columns = tuple[tuple[str, str], ...]

SMALL_TABLE_ROWS = 10_000
"""A table of at most this many rows (DuckDB's estimate) is hashed after its COPY, not tailed.

A view, a table of another kind of database (no estimate), or a bigger table is
tailed. The estimate only decides how the file is hashed, never whether."""


class DatasetFailedError(Exception):
    """A dataset could not be exported; the message is the reason shown to the user."""


class Stager:
    """Stages the jobs of one run into the staging directory ``files``, in order.

    Stage inside ``transaction()``: the run's transaction is open there.

    Parameters
    ----------
    cursor
        The run's cursor, with no transaction open.
    pack_schema
        The schema of the pack.
    directory, files
        The output directory, and the staging folder the files are written to.
    jobs
        Every job of the run: their statements are asked for in one query.
    hasher
        Hashes each file beside its ``COPY`` and the next one; ``None``: no checksums.
    """

    def __init__(
        self,
        cursor: duckdb.DuckDBPyConnection,
        pack_schema: str,
        directory: Path,
        files: Path,
        jobs: Sequence[Job],
        hasher: Executor | None,
    ) -> None:
        self.cursor = cursor
        self.macro = f"{qualified_name(pack_schema)}.dataset_export_sql"
        self.directory = directory
        self.files = files
        self._files_text = files.as_posix()  # as the pack's statements spell it
        self.hasher = hasher
        self.statements = self._statements(jobs)
        self.keys = parsed_keys(jobs)
        self.found = Described({}, {}, {}, set())
        """What the run's snapshot holds for its keys: relations, comments, columns, sizes."""
        self.descriptions: dict[str, Comments] = {}
        """By file name, the comments of each staged dataset's relation, read in the
        snapshot its ``COPY`` read: what the package describes it with."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Stager]:
        """The run's transaction, every key resolved in it; ended either way at the end."""
        self._snapshot()
        try:
            yield self
        except BaseException:
            # Nothing was written to the database; a failing ROLLBACK must not hide the error.
            with contextlib.suppress(duckdb.Error):
                self.cursor.execute("ROLLBACK")
            raise
        self.cursor.execute("COMMIT")

    def _snapshot(self) -> None:
        """Begin the transaction; in it, resolve every key and read comments, columns, sizes."""
        self.cursor.execute("BEGIN TRANSACTION")
        self.found = described_keys(self.cursor, self.keys)

    def _recover(self) -> None:
        """After a failed statement: a new transaction (the failed one is aborted)."""
        self.cursor.execute("ROLLBACK")
        self._snapshot()

    def stage(self, job: Job) -> Finish:
        """Run the verified ``COPY`` of ``job``; the returned call completes it."""
        start = time.perf_counter()
        key, relation = job_relation(job, self.keys, self.found.relations)
        # The package describes the relation as the snapshot this COPY reads holds it.
        self.descriptions[job.filename] = self.found.comments.get(job.table_key, NO_COMMENTS)
        if job.parts is not None:  # H8 hook: a directory of Parquet files (_export_parts)
            from ducksets._export_parts import stage_parts

            return stage_parts(self, job, key, relation)
        produced = self.files / job.filename
        digest: Tail | None = None
        try:
            copy_sql = self._verified_copy(job, key)
            if self.hasher is not None:
                digest = Tail.start(self.hasher, produced, tail=relation not in self.found.small)
            rows = rows_written(self.cursor.execute(copy_sql).fetchall())
            columns = self.found.table_columns.get(relation) or columns_now(self.cursor, key)
        except BaseException as exc:
            if digest is not None:
                digest.cancel()  # else its thread would wait for the COPY forever
            if not isinstance(exc, duckdb.Error):
                raise
            self._recover()
            raise DatasetFailedError(first_line(exc)) from exc
        if digest is not None:
            digest.writer_done()
        # The file is complete: its size and mtime now are those it is published with.
        status = digest.status if digest is not None else None
        status = status or _regular_status(produced)
        if status is None:
            raise DatasetFailedError(f"DuckDB wrote no file {job.filename!r}")

        def finish() -> ExportedFile:
            size, sha256 = _file_digest(produced, digest, status)
            return ExportedFile(
                dataset_name=job.name,
                table_key=job.table_key,
                kind=job.kind,
                format=job.fmt,
                path=self.directory / job.filename,
                rows=rows,
                bytes=size,
                sha256=sha256,
                seconds=time.perf_counter() - start,
                columns=columns,
                mtime_ns=status.st_mtime_ns,
            )

        return finish

    def _statements(self, jobs: Sequence[Job]) -> dict[tuple[str, str], str | None]:
        """The pack's statement for every job, in one query; empty when that query fails.

        One dataset whose row makes the macro raise fails the whole query: each
        job then asks alone (``_verified_copy``) and gets its own error.
        """
        formats = {j.fmt for j in jobs}
        # One format (the usual run) is passed as a constant: DuckDB then plans
        # the macro for that format only, about a millisecond less.
        fmt = f"{quote_literal(next(iter(formats)))}::VARCHAR" if len(formats) == 1 else "f"
        try:
            rows = self.cursor.execute(
                f"SELECT n, f, {self.macro}(n, fmt := {fmt}, output_dir := $1) "
                "FROM (SELECT unnest($2::VARCHAR[]) AS n, unnest($3::VARCHAR[]) AS f)",
                [self._files_text, [j.name for j in jobs], [j.fmt for j in jobs]],
            ).fetchall()
        except duckdb.Error:
            return {}
        return {(name, fmt): statement for name, fmt, statement in rows}

    def _verified_copy(self, job: Job, key: TableKey) -> str:
        """The pack's COPY statement for ``job``, run only when it is exactly the one expected."""
        if (job.name, job.fmt) in self.statements:
            statement = self.statements[job.name, job.fmt]
        else:
            statement = pack_statement(self.cursor, self.macro, job, self._files_text)
        staged = f"{self._files_text}/{job.filename}"
        return checked_copy(self.cursor, self.macro, statement, job, key, staged)


def parsed_keys(jobs: Sequence[Job]) -> dict[str, TableKey | InvalidTableKeyError]:
    """Each job's table key (as the catalog spells it), parsed, or why it does not parse."""
    keys: dict[str, TableKey | InvalidTableKeyError] = {}
    for job in jobs:
        try:
            keys[job.table_key] = parse_table_key(job.table_key)
        except InvalidTableKeyError as exc:
            keys[job.table_key] = exc
    return keys


@dataclass(frozen=True)
class Described:
    """What one catalog query found for a run's keys (``described_keys``), by catalog spelling."""

    relations: dict[str, Relation | None]
    """The relation each parsed table key names (``None``: none)."""
    comments: dict[str, Comments]
    """The comments of the relation each table key names (absent: it names none)."""
    table_columns: dict[Relation, Columns]
    """Each table's columns as the catalog lists them (a view is bound instead: ``columns_now``)."""
    small: set[Relation]
    """The tables not worth tailing (``SMALL_TABLE_ROWS``)."""


def described_keys(
    cursor: duckdb.DuckDBPyConnection, keys: Mapping[str, TableKey | InvalidTableKeyError]
) -> Described:
    """Resolve every parsed key now and read its relation's comments, columns and size.

    One catalog query (``_comments.described_relations``): in a run's
    transaction, all of it is that snapshot's, like the ``COPY`` statements.
    """
    parsed = {text: key for text, key in keys.items() if isinstance(key, TableKey)}
    found = described_relations(cursor, list(parsed.values()))
    described = Described({}, {}, {}, set())
    for text, key in parsed.items():
        entry = found[key]
        if entry is None:
            described.relations[text] = None
            continue
        relation = described.relations[text] = entry.relation
        described.comments[text] = entry.comments
        if relation.kind == "table":
            described.table_columns[relation] = entry.columns
            rows = entry.estimated_rows
            if rows is not None and rows <= SMALL_TABLE_ROWS:
                described.small.add(relation)
    return described


def job_relation(
    job: Job,
    keys: Mapping[str, TableKey | InvalidTableKeyError],
    relations: Mapping[str, Relation | None],
) -> tuple[TableKey, Relation]:
    """``job``'s key and the relation it names in the run's snapshot; else the dataset fails."""
    key = keys[job.table_key]
    if isinstance(key, InvalidTableKeyError):
        msg = f"{first_line(key)}; fix its row in metadata.datasets"
        raise DatasetFailedError(msg) from key
    relation = relations.get(job.table_key)
    if relation is None:
        msg = f"table key {job.table_key!r} names no table or view; create it or fix its row"
        raise DatasetFailedError(msg)
    return key, relation


def pack_statement(
    cursor: duckdb.DuckDBPyConnection, macro: str, job: Job, output_dir: str
) -> str | None:
    """What the pack's ``dataset_export_sql`` returns for ``job`` into ``output_dir``."""
    row = fetch_one(
        cursor, f"SELECT {macro}(?, fmt := ?, output_dir := ?)", [job.name, job.fmt, output_dir]
    )
    return None if row is None else row[0]


def checked_copy(
    cursor: duckdb.DuckDBPyConnection,
    macro: str,
    statement: str | None,
    job: Job,
    key: TableKey,
    target: str,
) -> str:
    """``statement`` when it is exactly ``job``'s COPY of ``key`` to ``target``.

    The exporter runs only SQL it built itself, and builds it again here to
    compare: a changed pack macro makes the dataset fail, and nothing runs.
    """
    expected = (
        f"COPY (SELECT * FROM {key.sql()}) TO {quote_literal(target)} "
        f"(FORMAT {_COPY_FORMAT[job.fmt]})"
    )
    if statement == expected:
        return expected
    repair = f"ducksets install {database_path(cursor)}"
    if statement is None:
        msg = f"{macro} returned no statement; run `{repair}` to repair the pack"
    else:
        msg = (
            f"{macro} returned a statement other than this dataset's COPY to {target}, "
            f"so nothing was run; the pack object was changed: `{repair}` repairs it"
        )
    raise DatasetFailedError(msg)


def _regular_status(path: Path) -> os.stat_result | None:
    """The status of the regular file at ``path``; ``None`` when there is none."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status if stat.S_ISREG(status.st_mode) else None


def _file_digest(
    produced: Path, digest: Tail | None, status: os.stat_result
) -> tuple[int, str | None]:
    """Size and SHA-256 (``None`` without a checksum) of a staged file whose status is known."""
    if digest is None:
        return status.st_size, None
    try:
        return digest.result()
    except OSError as exc:
        raise DatasetFailedError(f"cannot read back {produced}: {exc}") from exc


def rows_written(result: list[tuple[Any, ...]]) -> int:
    # COPY ... TO returns one row whose first column is the number of rows
    # written (DuckDB 1.2 and later; RETURN_STATS would add more columns).
    if not result or not isinstance(result[0][0], int):
        raise DatasetFailedError(f"unexpected COPY result {result!r}")
    return int(result[0][0])


def columns_now(cursor: duckdb.DuckDBPyConnection, key: TableKey) -> Columns:
    """Column names and types as DuckDB binds the relation now (a view's catalog entry may lag)."""
    relation = cursor.sql(f"SELECT * FROM {key.sql()} LIMIT 0")
    return tuple(zip(relation.columns, (str(t) for t in relation.types), strict=True))
