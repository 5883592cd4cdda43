"""A small runner for DuckDB-style sqllogictest files (``tests/sql/*.test``).

A file starts with header comments (``# name:``, ``# description:``,
``# group:``); records are separated by blank lines. Supported records:

``statement ok`` / ``statement error``
    The SQL follows. For ``error``, an optional ``----`` line is followed by a
    substring the error message must contain.
``query <types> [rowsort]``
    The SQL, ``----``, then the expected rows: values tab-separated, ``NULL``
    for null, ``true``/``false`` for booleans, ``(empty)`` for an empty
    string. ``<types>`` has one letter per column (``I``, ``T``, ``R``, ``B``);
    only the column count is checked. ``rowsort`` sorts both sides first.
``eval ok`` (ours)
    The SQL returns one text column; each row is then run as a statement and
    must succeed. It tests SQL-generating macros by running what they make.
``require-duckdb >= X.Y`` or ``require-duckdb < X.Y`` (ours)
    The records after it need that DuckDB version. When the running DuckDB
    does not match, the rest of the file is skipped and the outcome carries
    the reason, which the caller must report as a skip, never as a pass.
any other one-line record, e.g. ``load-pack``
    A directive, run by the caller's hook of that name.

``__TEST_DIR__`` in SQL and expected values is replaced by a per-file
directory, as in DuckDB's runner.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import duckdb

Hook = Callable[[duckdb.DuckDBPyConnection], object]

_QUERY = re.compile(r"query (?P<types>[A-Z]+)(?: (?P<sort>rowsort))?")
_REQUIRE = re.compile(r"require-duckdb (?P<op>>=|<) (?P<version>\d+(?:\.\d+)*)")
_COMPARE = {">=": operator.ge, "<": operator.lt}


class SqlLogicTestError(AssertionError):
    """A record failed; the message starts with ``file:line``."""


@dataclass(frozen=True)
class Record:
    """One record: its header line, the SQL below it and the text after ``----``."""

    path: Path
    line: int
    header: str
    sql: str
    expected: tuple[str, ...]

    @property
    def where(self) -> str:
        """``file:line`` of the record's header."""
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class LogicFile:
    """A parsed ``.test`` file: its header comments and its records."""

    path: Path
    header: Mapping[str, str]
    records: tuple[Record, ...]


@dataclass(frozen=True)
class Outcome:
    """What a run did: records run, and why the rest was skipped (``None``: nothing was)."""

    executed: int
    skip_reason: str | None


def parse(path: Path) -> LogicFile:
    """Parse a ``.test`` file into its header comments and records."""
    header: dict[str, str] = {}
    records: list[Record] = []
    block: list[tuple[int, str]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate([*lines, ""], start=1):
        if line.strip():
            if not block and line.startswith("#"):
                key, _, value = line[1:].partition(":")
                if value and key.strip() in {"name", "description", "group"}:
                    header[key.strip()] = value.strip()
                continue
            block.append((number, line))
        elif block:
            records.append(_record(path, block))
            block = []
    return LogicFile(path, header, tuple(records))


def _record(path: Path, block: list[tuple[int, str]]) -> Record:
    body = [text for _, text in block[1:]]
    split = body.index("----") if "----" in body else len(body)
    return Record(
        path, block[0][0], block[0][1].strip(), "\n".join(body[:split]), tuple(body[split + 1 :])
    )


def duckdb_version() -> tuple[int, ...]:
    """The running DuckDB's version as numbers, e.g. ``(1, 4, 5)``."""
    return tuple(int(part) for part in re.findall(r"\d+", duckdb.__version__)[:3])


def run(
    test_file: LogicFile,
    con: duckdb.DuckDBPyConnection,
    *,
    test_dir: Path,
    hooks: Mapping[str, Hook],
) -> Outcome:
    """Run every record against ``con``; raise ``SqlLogicTestError`` on the first failure."""
    for index, record in enumerate(test_file.records):
        sql = record.sql.replace("__TEST_DIR__", str(test_dir))
        expected = [line.replace("__TEST_DIR__", str(test_dir)) for line in record.expected]
        require = _REQUIRE.fullmatch(record.header)
        query = _QUERY.fullmatch(record.header)
        if require:
            wanted = tuple(int(part) for part in require["version"].split("."))
            if not _COMPARE[require["op"]](duckdb_version(), wanted):
                left = len(test_file.records) - index - 1
                reason = (
                    f"{record.where}: {left} records need duckdb {require['op']} "
                    f"{require['version']}, running {duckdb.__version__} ({index} records ran)"
                )
                return Outcome(index, reason)
        elif record.header in {"statement ok", "statement error"}:
            error = _error_of(con, sql)
            if record.header == "statement ok" and error is not None:
                _fail(record, "statement failed", "success", error)
            if record.header == "statement error":
                message = "\n".join(expected)
                if error is None or message not in error:
                    _fail(record, "wrong outcome", f"an error containing {message!r}", error)
        elif record.header == "eval ok":
            for (statement,) in _fetch(record, con, sql)[1]:
                error = _error_of(con, str(statement))
                if error is not None:
                    _fail(record, f"generated statement failed: {statement}", "success", error)
        elif query:
            columns, rows = _fetch(record, con, sql)
            actual = ["\t".join(_render(value) for value in row) for row in rows]
            if columns != len(query["types"]):
                _fail(record, "wrong column count", str(len(query["types"])), str(columns))
            if query["sort"]:
                actual, expected = sorted(actual), sorted(expected)
            if actual != expected:
                _fail(record, "wrong result", "\n".join(expected), "\n".join(actual))
        elif record.header in hooks and not record.sql:
            hooks[record.header](con)
        else:
            msg = f"{record.where}: unknown record {record.header!r}"
            raise SqlLogicTestError(msg)
    return Outcome(len(test_file.records), None)


def _error_of(con: duckdb.DuckDBPyConnection, sql: str) -> str | None:
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        return str(exc)
    return None


def _fetch(
    record: Record, con: duckdb.DuckDBPyConnection, sql: str
) -> tuple[int, list[tuple[object, ...]]]:
    try:
        result = con.execute(sql)
        return len(result.description or ()), result.fetchall()
    except duckdb.Error as exc:
        _fail(record, "query failed", "a result", str(exc))


def _render(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(value).lower()
    if value == "":
        return "(empty)"
    return str(value)


def _fail(record: Record, problem: str, expected: str, actual: str | None) -> NoReturn:
    msg = (
        f"{record.where}: {problem}\n{record.sql}\n"
        f"--- expected:\n{expected}\n--- actual:\n{actual if actual is not None else 'success'}"
    )
    raise SqlLogicTestError(msg)
