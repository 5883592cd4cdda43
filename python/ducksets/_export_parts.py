"""Parquet exports as a directory of files: ``PARTITION_BY`` columns and/or a file size limit.

A dataset exported with ``partition_by`` or ``max_file_bytes`` goes to a
directory named as its Parquet file name (``events.parquet/`` holding
``year=2024/data_0.parquet``, ...), so the catalog's file name still names it.
The ``COPY`` is the pack's verified statement (``dataset_export_sql``, checked
text-equal by ``_export_copy``) with options added here, each identifier
through ``sqltext.quote_identifier``:

- ``PARTITION_BY (...)`` with ``WRITE_PARTITION_COLUMNS true``: the partition
  columns stay inside the files too, so every file has the dataset's whole
  schema (Frictionless checks a file against it; a reader without hive
  partitioning sees every column; partitioning by every column is no error).
- ``FILE_SIZE_BYTES n``: DuckDB starts a new file once the current one reaches
  ``n`` bytes, checked after each row group (122,880 rows by default), so a
  file can exceed ``n`` by up to one row group.

Both at once need DuckDB 2.0 (1.2-1.5: "Can't combine FILE_SIZE_BYTES and
PARTITION_BY"), refused before any ``COPY`` there. Partition values reach file
names through DuckDB's hive layout, which escapes ``/`` (``%2F``); the files
are then listed from the file system (never following a symlink) and every
listed path is checked to be a plain relative path inside the directory.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TypeVar

import duckdb

from ducksets._export_results import ExportedFile, ExportedPart
from ducksets._hashing import file_digest
from ducksets._introspect import Relation, find_relation
from ducksets._names import fold_name
from ducksets.errors import (
    ArgumentTypeError,
    InvalidArgumentError,
    InvalidTableKeyError,
    first_line,
)
from ducksets.keys import TableKey, parse_table_key
from ducksets.sqltext import quote_identifier, quote_literal

if TYPE_CHECKING:
    from ducksets._export_copy import Finish, Stager
    from ducksets._export_plan import Job

T = TypeVar("T")
_SUFFIX = " (FORMAT PARQUET)"
EMPTY_PART = "data_0.parquet"
"""The one file of a directory export that holds no rows (DuckDB writes none)."""


@dataclass(frozen=True)
class PartOptions:
    """How one dataset is split into files."""

    partition_by: tuple[str, ...] = ()
    max_file_bytes: int | None = None

    def copy_options(self, columns: Sequence[str]) -> str:
        """The ``COPY`` options after ``FORMAT PARQUET``, partition columns spelled as ``columns``.

        >>> PartOptions(("Year",), 1000).copy_options(["year", "x"])
        ', PARTITION_BY ("year"), WRITE_PARTITION_COLUMNS true, FILE_SIZE_BYTES 1000'
        """
        spelled = {fold_name(c): c for c in columns}
        text = ""
        if self.partition_by:
            names = ", ".join(quote_identifier(spelled[fold_name(c)]) for c in self.partition_by)
            text += f", PARTITION_BY ({names}), WRITE_PARTITION_COLUMNS true"
        if self.max_file_bytes is not None:
            text += f", FILE_SIZE_BYTES {int(self.max_file_bytes)}"
        return text


def check_part_options(
    formats: Sequence[str],
    names: Sequence[str] | None,
    partition_by: object,
    max_file_bytes: object,
) -> dict[str, PartOptions] | PartOptions | None:
    """The checked ``partition_by``/``max_file_bytes`` of a run.

    Returns ``None`` without either, a ``PartOptions`` for every Parquet
    dataset when only ``max_file_bytes`` applies to all, else per dataset name
    (datasets not named get ``max_file_bytes`` alone, if given).

    Raises
    ------
    ArgumentTypeError, InvalidArgumentError
        Wrong types or values, a JSONL format in the run, or both options
        together for one dataset on DuckDB before 2.0.
    """
    if partition_by is None and max_file_bytes is None:
        return None
    size = _check_size(max_file_bytes)
    by = _check_partition_by(partition_by)
    if "jsonl" in formats:
        parameter = "partition_by" if by else "max_file_bytes"
        msg = (
            f"{parameter} applies to Parquet exports only; export JSONL in a separate run "
            "without it, or choose fmt='parquet'"
        )
        raise InvalidArgumentError(msg, parameter=parameter, value=partition_by or max_file_bytes)
    if names is not None:
        for name in by:
            if name not in names:
                msg = (
                    f"partition_by names dataset {name!r}, which this run does not export; "
                    "add it to datasets or remove it from partition_by"
                )
                raise InvalidArgumentError(msg, parameter="partition_by", value=name)
    if by and size is not None and int(duckdb.__version__.split(".")[0]) < 2:
        msg = (
            f"partition_by and max_file_bytes together need DuckDB 2.0 or later "
            f"(this is {duckdb.__version__}); use one of them"
        )
        raise InvalidArgumentError(msg, parameter="max_file_bytes", value=max_file_bytes)
    if not by:
        return PartOptions((), size)
    return {name: PartOptions(columns, size) for name, columns in by.items()}


def options_for(
    options: dict[str, PartOptions] | PartOptions | None, name: str
) -> PartOptions | None:
    """The split options of dataset ``name`` in a run checked by ``check_part_options``."""
    if options is None or isinstance(options, PartOptions):
        return options
    if name in options:
        return options[name]
    size = next(iter(options.values())).max_file_bytes
    return None if size is None else PartOptions((), size)


def _check_size(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"max_file_bytes must be an int (bytes) or None, not {type(value).__name__}"
        raise ArgumentTypeError(msg, parameter="max_file_bytes", value=value)
    if value < 1:
        msg = f"max_file_bytes must be at least 1 byte, not {value}"
        raise InvalidArgumentError(msg, parameter="max_file_bytes", value=value)
    return value


def _check_partition_by(value: object) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        msg = (
            "partition_by must map dataset names to column lists, like "
            f"{{'events': ['year']}}, not {type(value).__name__}"
        )
        raise ArgumentTypeError(msg, parameter="partition_by", value=value)
    checked = {}
    for name, columns in value.items():
        if not isinstance(name, str):
            msg = f"partition_by keys must be dataset names, not {name!r}"
            raise ArgumentTypeError(msg, parameter="partition_by", value=name)
        if isinstance(columns, str) or not isinstance(columns, Sequence):
            msg = f"partition_by[{name!r}] must be a list of column names, not {columns!r}"
            raise ArgumentTypeError(msg, parameter="partition_by", value=columns)
        if not columns or not all(isinstance(c, str) and c for c in columns):
            msg = f"partition_by[{name!r}] must name at least one column, each a non-empty string"
            raise InvalidArgumentError(msg, parameter="partition_by", value=columns)
        folded = [fold_name(c) for c in columns]
        if len(set(folded)) != len(folded):
            msg = f"partition_by[{name!r}] names a column twice: {list(columns)!r}"
            raise InvalidArgumentError(msg, parameter="partition_by", value=columns)
        checked[name] = tuple(columns)
    return checked


def check_columns(name: str, options: PartOptions, columns: Sequence[str]) -> None:
    """Refuse a partition column the dataset does not have (compared as DuckDB folds names)."""
    have = {fold_name(c) for c in columns}
    for column in options.partition_by:
        if fold_name(column) not in have:
            msg = (
                f"dataset {name!r} has no column {column!r} to partition by (its columns: "
                f"{', '.join(columns)}); nothing was exported. Fix partition_by"
            )
            raise InvalidArgumentError(msg, parameter="partition_by", value=column)


def safe_part_path(path: object) -> bool:
    """``path`` is a relative posix path of plain names, so it stays inside its directory."""
    if not isinstance(path, str) or not path or "\\" in path or "\0" in path:
        return False
    parts = PurePosixPath(path).parts
    return (
        not path.startswith("/")
        and "/".join(parts) == path
        and all(p not in {"", ".", ".."} for p in parts)
    )


def list_parts(directory: Path) -> list[str]:
    """The regular files under ``directory`` as sorted relative posix paths.

    Raises
    ------
    OSError
        Something other than a directory or regular file is there (DuckDB
        writes neither), or a path is not plain.
    """
    found: list[str] = []
    for root, dirs, files in os.walk(directory, followlinks=False):
        for name in [*dirs, *files]:
            mode = Path(root, name).lstat().st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise OSError(f"{Path(root, name)} is not a regular file")
        for name in files:
            relative = Path(root, name).relative_to(directory).as_posix()
            if not safe_part_path(relative):
                raise OSError(f"{relative!r} is not a plain path inside {directory}")
            found.append(relative)
    return sorted(found)


def part_rows(
    cursor: duckdb.DuckDBPyConnection, directory: Path, paths: Sequence[str]
) -> list[int]:
    """The row count of each Parquet file, read from its footer (one query)."""
    full = [(directory / p).as_posix() for p in paths]
    listed = ", ".join(quote_literal(f) for f in full)
    rows = dict(
        cursor.execute(
            f"SELECT file_name, num_rows FROM parquet_file_metadata([{listed}])"
        ).fetchall()
    )
    return [int(rows[f]) for f in full]


def check_partition_columns(cursor: duckdb.DuckDBPyConnection, jobs: Sequence[Job]) -> None:
    """Refuse the run, before any ``COPY``, when a partition column does not exist.

    A job whose key names no relation is left to fail as usual when staged.
    """
    for job in jobs:
        if job.parts is None or not job.parts.partition_by:
            continue
        try:
            relation = find_relation(cursor, parse_table_key(job.table_key))
        except InvalidTableKeyError:
            continue
        if relation is None:
            continue
        try:
            columns = cursor.sql(f"SELECT * FROM {relation.sql()} LIMIT 0").columns
        except duckdb.Error:
            continue  # a broken view fails when staged, with DuckDB's reason
        check_columns(job.name, job.parts, columns)


def stage_parts(stager: Stager, job: Job, key: TableKey, relation: Relation) -> Finish:
    """Run the verified ``COPY`` of ``job`` with its split options into a staged directory."""
    from ducksets._export_copy import DatasetFailedError, columns_now, rows_written

    start = time.perf_counter()
    assert job.parts is not None
    produced = stager.files / job.filename
    cursor = stager.cursor
    try:
        statement = stager._verified_copy(job, key)
        columns = stager.found.table_columns.get(relation) or columns_now(cursor, key)
        if not statement.endswith(_SUFFIX):
            raise DatasetFailedError(f"unexpected COPY statement {statement!r}")
        options = job.parts.copy_options([name for name, _ in columns])
        rows = rows_written(cursor.execute(f"{statement[:-1]}{options})").fetchall())
        paths = list_parts(produced)
        if not paths and rows == 0:
            # DuckDB writes no file for no rows: one empty file keeps the schema.
            produced.mkdir(exist_ok=True)
            target = quote_literal((produced / EMPTY_PART).as_posix())
            cursor.execute(f"COPY (SELECT * FROM {key.sql()} LIMIT 0) TO {target}{_SUFFIX}")
            paths = list_parts(produced)
        counts = part_rows(cursor, produced, paths)
    except duckdb.Error as exc:
        stager._recover()
        raise DatasetFailedError(first_line(exc)) from exc
    except OSError as exc:
        raise DatasetFailedError(f"cannot list the files DuckDB wrote: {exc}") from exc
    if sum(counts) != rows:
        raise DatasetFailedError(f"the files hold {sum(counts)} rows, the COPY wrote {rows}")
    hashes = None
    if stager.hasher is not None:
        hashes = stager.hasher.submit(lambda: [file_digest(produced / p)[1] for p in paths])

    def finish() -> ExportedFile:
        try:
            digests = hashes.result() if hashes is not None else [None] * len(paths)
            status = [(produced / p).stat() for p in paths]
        except OSError as exc:
            raise DatasetFailedError(f"cannot read back {produced}: {exc}") from exc
        parts = tuple(
            ExportedPart(p, n, s.st_size, d, s.st_mtime_ns)
            for p, n, s, d in zip(paths, counts, status, digests, strict=True)
        )
        return ExportedFile(
            dataset_name=job.name,
            table_key=job.table_key,
            kind=job.kind,
            format=job.fmt,
            path=stager.directory / job.filename,
            rows=rows,
            bytes=sum(p.bytes for p in parts),
            sha256=None,
            seconds=time.perf_counter() - start,
            columns=columns,
            mtime_ns=None,
            parts=parts,
        )

    return finish


def apply_parts(plan: list[T], options: dict[str, PartOptions] | PartOptions) -> list[T]:
    """The planned jobs with their split options; refuses a ``partition_by`` name not planned.

    Raises
    ------
    InvalidArgumentError
        ``partition_by`` names a dataset this run does not export as Parquet.
    """
    planned = {getattr(item, "dataset_name", getattr(item, "name", None)) for item in plan}
    for name in options if isinstance(options, dict) else ():
        if name not in planned:
            msg = (
                f"partition_by names {name!r}, which is no dataset this run exports to Parquet; "
                "fix the name, or give the dataset a parquet_filename"
            )
            raise InvalidArgumentError(msg, parameter="partition_by", value=name)
    return [with_parts(item, options) for item in plan]


def with_parts(item: T, options: dict[str, PartOptions] | PartOptions) -> T:
    """``item`` (a planned job or failure) with its dataset's split options."""
    from ducksets._export_plan import Job

    if not isinstance(item, Job):
        return item
    parts = options_for(options, item.name)
    return item if parts is None else dataclasses.replace(item, parts=parts)


_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str) -> int:
    """Bytes in ``text`` like ``256MB`` (10^6) or ``1GiB`` (2^30), as DuckDB spells sizes.

    >>> parse_size("256MB"), parse_size("1 GiB"), parse_size("1000")
    (256000000, 1073741824, 1000)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).upper() if match else ""
    if match is None or unit not in _UNITS or float(match.group(1)) * _UNITS[unit] < 1:
        msg = f"--max-file-size {text!r} is not a size; write e.g. 256MB, 1GiB or 1000000"
        raise InvalidArgumentError(msg, parameter="max_file_bytes", value=text)
    return int(float(match.group(1)) * _UNITS[unit])


def parse_partition_by(options: Sequence[str]) -> dict[str, list[str]]:
    """``{"events": ["year", "kind"]}`` from ``["events=year,kind"]`` (``--partition-by``)."""
    parsed: dict[str, list[str]] = {}
    for option in options:
        name, sep, columns = option.partition("=")
        listed = [c.strip() for c in columns.split(",")]
        if not sep or not name or not all(listed) or name in parsed:
            why = "is given twice" if name in parsed else "is not NAME=COL[,COL]"
            msg = f"--partition-by {option!r} {why}; write e.g. --partition-by events=year,month"
            raise InvalidArgumentError(msg, parameter="partition_by", value=option)
        parsed[name] = listed
    return parsed
