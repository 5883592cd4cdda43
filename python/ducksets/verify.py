"""Verifying an export directory against its ``datapackage.json``.

``verify_exports(directory)`` recomputes every listed file's size, SHA-256
and row count, checks its columns against the package's fields, and (given
a database) the package against the data there now. It is the check that
covers Parquet integrity, which ``frictionless validate`` skips.

Every problem is one ``VerifyProblem`` (path, code, message): a missing or
foreign package, a resource path leading out of the directory, a missing,
truncated or changed file, a JSONL line that is not JSON, a schema that
differs. Nothing is raised for what the directory holds; only arguments of
the wrong type raise.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ducksets._args import require_bool, require_int, require_path
from ducksets._html import html_table
from ducksets._verify_files import FileCheck, FileReader, Listed, check_file, largest_first
from ducksets._verify_package import PackageProblem, read_package
from ducksets.errors import ArgumentTypeError, InvalidArgumentError

if TYPE_CHECKING:
    import duckdb

    from ducksets.gateway import Gateway

_S3_WORKERS = 8

__all__ = ["VerifiedFile", "VerifyProblem", "VerifyReport", "verify_exports"]


@dataclass(frozen=True)
class VerifyProblem:
    """One thing that differs: where (resource path), a short code, and what exactly.

    Codes: ``package_missing``, ``package_invalid``, ``resource_invalid``,
    ``path_unsafe``, ``file_missing``, ``file_unreadable``, ``file_unlisted``
    (a file in a folder resource's folder the package does not list), ``bytes_mismatch``,
    ``hash_mismatch``, ``rows_mismatch``, ``parquet_unreadable``,
    ``jsonl_invalid``, ``schema_mismatch``; with a database also
    ``data_missing``, ``data_unreadable``, ``data_rows_mismatch``,
    ``data_schema_mismatch``.
    """

    path: str | None
    """the resource's path as listed (``None`` for the package as a whole)"""
    code: str
    message: str
    resource: str | None = None
    """the resource's name, when it has one"""

    def __str__(self) -> str:
        return f"{self.path or 'datapackage.json'}: {self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The problem as a JSON-ready mapping."""
        return {
            "path": self.path,
            "resource": self.resource,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class VerifiedFile:
    """What was recomputed for one listed file (``None`` where it could not be read)."""

    resource: str
    path: str
    format: str
    bytes: int | None
    sha256: str | None
    rows: int | None

    def to_dict(self) -> dict[str, Any]:
        """The file's recomputed facts as a JSON-ready mapping."""
        return {
            "resource": self.resource,
            "path": self.path,
            "format": self.format,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of ``verify_exports``: the files read and every problem found."""

    directory: str
    files: tuple[VerifiedFile, ...]
    problems: tuple[VerifyProblem, ...]
    data_checked: bool = False
    """whether the package was also compared with a database's data"""

    @property
    def ok(self) -> bool:
        """True when every file and (if checked) the data match the package."""
        return not self.problems

    def __iter__(self) -> Iterator[VerifyProblem]:
        return iter(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping (``ducksets verify --format json`` prints it)."""
        return {
            "directory": self.directory,
            "ok": self.ok,
            "data_checked": self.data_checked,
            "files": [f.to_dict() for f in self.files],
            "problems": [p.to_dict() for p in self.problems],
        }

    def summary(self) -> str:
        """One line: how many files were verified, and with how many problems."""
        against = " and the database" if self.data_checked else ""
        verdict = "ok" if self.ok else f"{len(self.problems)} problem(s)"
        checked = f"{len(self.files)} file(s) in {self.directory}"
        return f"{checked} checked against the package{against}: {verdict}"

    def __repr__(self) -> str:
        lines = [f"  {p}" for p in self.problems]
        return "\n".join([f"<VerifyReport: {self.summary()}", *lines]) + ">"

    def _repr_html_(self) -> str:
        if self.ok:
            return f"<p>{html.escape(self.summary())}</p>"
        rows = ((p.path, p.code, p.message) for p in self.problems)
        return html_table(("path", "code", "message"), rows, caption=self.summary())


def verify_exports(
    directory: str | os.PathLike[str],
    *,
    database: Gateway | duckdb.DuckDBPyConnection | None = None,
    full: bool = False,
    workers: int | None = None,
) -> VerifyReport:
    """Check every file ``directory``'s ``datapackage.json`` lists; return what differs.

    Parameters
    ----------
    directory
        An export directory (``export_datasets``' output), or an S3 export's
        ``s3://bucket/prefix`` (needs ``ducksets[s3]``; AWS settings from the
        environment, as for exports).
    database
        A gateway or connection: also compare each resource's rows and
        columns with the relation its ``ducksets:tableKey`` names there now.
    full
        Read every row (parse every JSONL line, decode every Parquet page)
        even when a file's SHA-256 matches; without it rows are read only
        for a file whose hash differs or was not recorded.
    workers
        Threads that hash files in parallel (default: one per CPU; 8 for ``s3://``).

    Raises
    ------
    ArgumentTypeError, InvalidArgumentError
        An argument of the wrong type or out of range. Anything about the
        directory's contents is a problem in the report instead.
    MissingExtraError, ObjectStoreError
        ``s3://`` only: ``s3fs`` is missing, or the store cannot be reached or read.
    """
    root = require_path("directory", directory, hint="give an export directory")
    require_bool("full", full)
    s3 = root[:5].lower() == "s3://"
    # Reading objects waits on the network more than on a CPU.
    threads = _workers(workers) if workers is not None or not s3 else _S3_WORKERS
    con = _connection(database)
    try:
        return _verify(root, con, full=full, workers=threads, s3=s3)
    finally:
        if con is not None:
            con.close()  # our own cursor of the caller's connection


def _verify(
    root: str, con: duckdb.DuckDBPyConnection | None, *, full: bool, workers: int, s3: bool
) -> VerifyReport:
    filesystem = None
    if s3:
        from ducksets._verify_s3 import read_s3_package

        package, filesystem = read_s3_package(root)
    else:
        package = read_package(root)
    problems = [_problem(p) for p in package.problems]
    found = _check_files(package.files, full=full, workers=workers, filesystem=filesystem)
    for (_, listed), (_, check) in zip(package.files, found, strict=True):
        problems += [VerifyProblem(listed.path, c, m, listed.name) for c, m in check.problems]
    if con is not None:
        from ducksets._verify_data import data_problems

        problems += [
            VerifyProblem(listed.path, code, message, listed.name)
            for listed, code, message in data_problems(con, package.resources)
        ]
    problems += _total_problems(package.resources, found)
    order = {
        listed.path: i
        for i, resource in enumerate(package.resources)
        for listed in (resource, *resource.parts)
    }
    problems.sort(key=lambda p: (p.path is not None, order.get(p.path or "", -1)))
    files = tuple(f for f, _ in found)
    return VerifyReport(root, files, tuple(problems), data_checked=con is not None)


def _total_problems(
    resources: tuple[Listed, ...], found: list[tuple[VerifiedFile, FileCheck]]
) -> list[VerifyProblem]:
    """A folder resource whose files, each read, add up to other totals than it states."""
    by_path = {verified.path: verified for verified, _ in found}
    problems = []
    for resource in resources:
        read = [by_path.get(part.path) for part in resource.parts]
        if not resource.parts or any(v is None for v in read):
            continue
        for what, stated in (("rows", resource.rows), ("bytes", resource.bytes)):
            counts = [getattr(v, what) for v in read]
            if stated is None or None in counts or sum(counts) == stated:
                continue
            message = (
                f"its {len(counts)} files hold {sum(counts)} {what}, the package says {stated}"
            )
            problems.append(
                VerifyProblem(resource.path, f"{what}_mismatch", message, resource.name)
            )
    return problems


def _problem(problem: PackageProblem) -> VerifyProblem:
    return VerifyProblem(problem.path, problem.code, problem.message, problem.resource)


def _workers(workers: int | None) -> int:
    if workers is None:
        return os.cpu_count() or 1
    count = require_int("workers", workers)
    if count < 1:
        msg = f"workers must be at least 1, not {count}"
        raise InvalidArgumentError(msg, parameter="workers", value=workers)
    return count


def _connection(database: object) -> duckdb.DuckDBPyConnection | None:
    """A cursor for the data check (``None`` without a database)."""
    if database is None:
        return None
    import duckdb

    from ducksets.gateway import Gateway

    if isinstance(database, Gateway):
        return database.cursor()
    if isinstance(database, duckdb.DuckDBPyConnection):
        from ducksets._introspect import placed_cursor

        return placed_cursor(database)  # where the caller's USE put it
    msg = (
        "database must be a Gateway (open_gateway) or a duckdb connection, "
        f"not {type(database).__name__} {database!r}"
    )
    raise ArgumentTypeError(msg, parameter="database", value=database)


def _check_files(
    files: tuple[tuple[str, Listed], ...], *, full: bool, workers: int, filesystem: Any
) -> list[tuple[VerifiedFile, FileCheck]]:
    """Read and check every file, ``workers`` at a time; results in the order given."""
    if not files:
        return []
    reader = FileReader(filesystem)
    try:
        jobs = list(largest_first(files))
        with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            checks = dict(
                zip(
                    (p for p, _ in jobs),
                    pool.map(lambda job: check_file(job[0], job[1], reader, full=full), jobs),
                    strict=True,
                )
            )
    finally:
        reader.close()
    found = []
    for full_path, listed in files:
        check = checks[full_path]
        verified = VerifiedFile(
            listed.name, listed.path, listed.format, check.bytes, check.sha256, check.rows
        )
        found.append((verified, check))
    return found
