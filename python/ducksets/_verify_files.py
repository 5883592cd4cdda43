"""Checking one exported file against its resource: bytes, SHA-256, rows and schema.

Each file is read once, in large chunks, by one worker thread: the chunk is
hashed (``hashlib`` releases the GIL, so workers hash in parallel) and, for
JSONL, its newlines are counted and its first line kept. A Parquet file's
rows and columns come from its footer (DuckDB's ``parquet_file_metadata`` and
``DESCRIBE``), which a truncated file does not have. Reading every row (every
JSONL line parsed, every Parquet column decoded) is done only when the hash
cannot vouch for the file: it differs, none was recorded, or ``full`` asks.
Every JSONL line is first read by DuckDB (``read_ndjson_objects``, parallel,
about 6x faster than Python here); only when it finds a problem does Python
read the file line by line to name the first bad line. DuckDB's reader is
lenient where Python's is not (a trailing comma, ``nan``); a blank line
still shows as a row count that differs.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

import duckdb

from ducksets.errors import SchemaError, first_line
from ducksets.schema import duckdb_type_name
from ducksets.sqltext import quote_literal

ResourceFormat = Literal["jsonl", "parquet"]
Columns = tuple[tuple[str, str], ...]

_CHUNK = 1 << 20
_S3_BLOCK = 8 << 20
_LINE_LIMIT = 64 << 20  # a line longer than this is not parsed (a file of one endless line)
_GLOB_CHARS = frozenset("*?[")
# DuckDB types whose JSON value has one kind: anything else (dates, structs,
# maps, ...) is not checked value by value.
_JSON_KINDS: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(
        ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"),
        (int,),
    ),
    **dict.fromkeys(("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"), (int,)),
    "FLOAT": (int, float),
    "DOUBLE": (int, float),
    "BOOLEAN": (bool,),
    "VARCHAR": (str,),
}


# The same kinds as json_type() names them (a non-negative integer is UBIGINT).
_INT_KINDS = ("BIGINT", "UBIGINT")
_SQL_KINDS: dict[str, tuple[str, ...]] = {
    **{name: _INT_KINDS for name, kinds in _JSON_KINDS.items() if kinds == (int,)},
    "FLOAT": (*_INT_KINDS, "DOUBLE"),
    "DOUBLE": (*_INT_KINDS, "DOUBLE"),
    "BOOLEAN": ("BOOLEAN",),
    "VARCHAR": ("VARCHAR",),
}


class _Stream(Protocol):
    """What is read from: a local file or an ``s3fs`` object, as a context manager."""

    def readinto(self, buffer: bytearray, /) -> int | None: ...

    def readline(self, size: int = -1, /) -> bytes: ...

    def __enter__(self) -> _Stream: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> object: ...


@dataclass(frozen=True)
class Listed:
    """One resource as the package lists it (already checked for shape)."""

    name: str
    path: str
    format: ResourceFormat
    rows: int | None
    bytes: int | None
    sha256: str | None
    """hex digest, ``None`` when the export recorded none"""
    fields: Columns
    """(name, DuckDB type) of each field"""
    table_key: str | None = None
    parts: tuple[Listed, ...] = ()
    """the files of a resource exported as a folder (``path`` is the folder, the
    counts its totals); empty for a resource of one file"""


@dataclass
class FileCheck:
    """What reading one file found: its facts and its problems (code, message)."""

    bytes: int | None = None
    sha256: str | None = None
    rows: int | None = None
    columns: Columns | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)

    def problem(self, code: str, message: str) -> None:
        self.problems.append((code, message))


@dataclass
class _Scan:
    size: int = 0
    digest: str = ""
    newlines: int = 0
    first_line: bytes | None = None
    last_byte: int | None = None


class FileReader:
    """A private in-memory DuckDB that reads Parquet footers and JSONL; one cursor per thread.

    A file is read as it is: ``hive_partitioning = false``, or a ``k=v`` folder
    anywhere in its path would add a column to it.

    With ``filesystem`` (an ``s3fs`` file system), ``s3://`` URLs are read
    through it, by DuckDB (registered on the connection) and by ``open``.
    """

    def __init__(self, filesystem: Any = None) -> None:
        self._con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": "false"})
        self._fs = filesystem
        if filesystem is not None:
            self._con.register_filesystem(filesystem)
        self._local = threading.local()
        self._roundtrips: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._con.close()

    def open(self, path: str) -> _Stream:
        """The file (or ``s3://`` object) at ``path``, opened for reading; only regular files.

        Raises
        ------
        OSError
            It cannot be opened (``FileNotFoundError`` when there is none).
        """
        if self._fs is not None and path.startswith("s3://"):
            stream: _Stream = self._fs.open(path, "rb", block_size=_S3_BLOCK)
            return stream
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)  # O_NONBLOCK: a FIFO planted here cannot hang the open
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise IsADirectoryError(0, "not a regular file")
        return os.fdopen(fd, "rb", buffering=0)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            self._local.cursor = cursor
        return cursor

    def footer(self, path: str) -> tuple[int, Columns]:
        """Rows and (name, type) columns the footer of the Parquet file at ``path`` states."""
        with _globless(path) as readable:
            literal = quote_literal(readable)
            cursor = self._cursor()
            rows = cursor.execute(
                f"SELECT sum(num_rows) FROM parquet_file_metadata({literal})"
            ).fetchall()
            described = cursor.execute(
                f"DESCRIBE SELECT * FROM read_parquet({literal}, hive_partitioning = false)"
            ).fetchall()
        return int(rows[0][0] or 0), tuple((str(d[0]), str(d[1])) for d in described)

    def decode_all(self, path: str) -> None:
        """Decode every column of every row group (raises DuckDB's error on a damaged page).

        Each value is hashed: ``count(COLUMNS(*))`` is answered from the
        footer's statistics and reads no page at all.
        """
        with _globless(path) as readable:
            self._cursor().execute(
                f"SELECT bit_xor(hash(COLUMNS(*))) FROM read_parquet({quote_literal(readable)}, "
                "hive_partitioning = false)"
            ).fetchall()

    def jsonl_all_good(self, path: str, fields: Columns) -> bool:
        """True when DuckDB finds every line a JSON object of ``fields``, each value of its kind.

        Only a fast proof: ``False`` (a bad line, or anything DuckDB reads
        otherwise than Python, such as an integer too large for UBIGINT) sends
        the caller to the line-by-line check, which has the last word.
        """
        if any(name.startswith(("$", "/")) for name, _ in fields):
            return False  # DuckDB would take the key for a JSON path
        conditions = ["json_keys(json) IS DISTINCT FROM ?::VARCHAR[]"]
        for name, duckdb_type in fields:
            kinds = _SQL_KINDS.get(duckdb_type.upper())
            if kinds is not None:
                listed = ", ".join(quote_literal(k) for k in (*kinds, "NULL"))
                conditions.append(f"json_type(json -> {quote_literal(name)}) NOT IN ({listed})")
        with _globless(path) as readable:
            sql = (
                f"SELECT count(*) FROM read_ndjson_objects({quote_literal(readable)}) "
                f"WHERE {' OR '.join(conditions)}"
            )
            try:
                found = self._cursor().execute(sql, [[name for name, _ in fields]]).fetchall()
            except duckdb.Error:
                return False
        return bool(found) and found[0][0] == 0

    def parquet_type(self, duckdb_type: str) -> str | None:
        """The type this DuckDB reads back after writing ``duckdb_type`` to Parquet.

        HUGEINT comes back DOUBLE, ENUM VARCHAR, ``TIMESTAMP_MS`` TIMESTAMP...;
        ``None`` when ``duckdb_type`` is no type DuckDB knows. The package is
        untrusted text: only DuckDB's own spelling of a type that parsed as
        exactly one type (``duckdb_type_name``) reaches the SQL.
        """
        with self._lock:  # rare, and duckdb_type_name uses DuckDB's default connection
            if duckdb_type not in self._roundtrips:
                self._roundtrips[duckdb_type] = self._roundtrip(duckdb_type)
            return self._roundtrips[duckdb_type]

    def _roundtrip(self, duckdb_type: str) -> str | None:
        try:
            spelled = duckdb_type_name(duckdb_type)
        except SchemaError:
            return None
        with tempfile.TemporaryDirectory(prefix="ducksets-verify-") as scratch:
            target = quote_literal(str(Path(scratch) / "t.parquet"))
            cursor = self._cursor()
            try:
                cursor.execute(
                    f"COPY (SELECT CAST(NULL AS {spelled}) AS c) TO {target} (FORMAT PARQUET)"
                )
                described = cursor.execute(
                    f"DESCRIBE SELECT * FROM read_parquet({target}, hive_partitioning = false)"
                )
                return str(described.fetchall()[0][1])
            except duckdb.Error:
                return None


class _globless:  # noqa: N801 - a context manager used like a function
    """``path`` as DuckDB can read it: a name holding ``*?[`` would be a glob pattern,
    so such a file is read through a symlink of a plain name."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> str:
        if not _GLOB_CHARS & set(self._path) or self._path.startswith("s3://"):
            return self._path
        self._scratch = tempfile.TemporaryDirectory(prefix="ducksets-verify-")
        link = Path(self._scratch.name) / "file"
        link.symlink_to(self._path)
        return str(link)

    def __exit__(self, *exc: object) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()


def check_file(path: str, listed: Listed, reader: FileReader, *, full: bool) -> FileCheck:
    """Read the file at ``path`` (inside the directory, not a symlink out) and compare it."""
    check = FileCheck()
    try:
        scan = _scan(reader.open(path), jsonl=listed.format == "jsonl")
    except OSError as exc:
        code = "file_missing" if isinstance(exc, FileNotFoundError) else "file_unreadable"
        reason = "not found" if code == "file_missing" else (exc.strerror or first_line(exc))
        check.problem(code, f"cannot read {listed.path}: {reason}")
        return check
    check.bytes, check.sha256 = scan.size, scan.digest
    if listed.bytes is not None and scan.size != listed.bytes:
        check.problem("bytes_mismatch", f"{scan.size} bytes, the package says {listed.bytes}")
    if listed.sha256 is not None and scan.digest != listed.sha256:
        check.problem(
            "hash_mismatch",
            f"sha256 is {scan.digest[:16]}…, the package says {listed.sha256[:16]}…; "
            "the file changed after the export",
        )
    vouched = listed.sha256 is not None and scan.digest == listed.sha256 and not full
    if listed.format == "jsonl":
        _check_jsonl(path, listed, scan, check, reader if not vouched else None)
    else:
        _check_parquet(path, listed, reader, check, read_all=not vouched)
    return check


def _scan(stream: _Stream, *, jsonl: bool) -> _Scan:
    """Size, SHA-256 and (JSONL) newline count, first line and last byte, in one read."""
    scan = _Scan()
    sha = hashlib.sha256()
    with stream as file:
        buffer = bytearray(_CHUNK)
        view = memoryview(buffer)
        first = bytearray() if jsonl else None
        while n := file.readinto(buffer):
            sha.update(view[:n])
            scan.size += n
            if not jsonl:
                continue
            scan.newlines += buffer.count(b"\n", 0, n)
            scan.last_byte = buffer[n - 1]
            if first is not None:
                end = buffer.find(b"\n", 0, n)
                first += view[: n if end < 0 else end]
                if end >= 0 or len(first) > _LINE_LIMIT:
                    scan.first_line = bytes(first) if end >= 0 else None
                    first = None
        if first:  # one line without a newline at the end
            scan.first_line = bytes(first)
    scan.digest = sha.hexdigest()
    return scan


def _check_jsonl(
    path: str, listed: Listed, scan: _Scan, check: FileCheck, read_all: FileReader | None
) -> None:
    """Rows from the newline count; the first line parsed (every line, given a reader)."""
    truncated = scan.size > 0 and scan.last_byte != ord("\n")
    check.rows = scan.newlines + (1 if truncated else 0)
    if truncated:
        check.problem("jsonl_invalid", "the last line has no newline at its end (truncated?)")
    if listed.rows is not None and check.rows != listed.rows:
        check.problem("rows_mismatch", f"{check.rows} lines, the package says {listed.rows} rows")
    if read_all is not None:
        good = read_all.jsonl_all_good(path, listed.fields)
        bad = None if good else _first_bad_line(read_all.open(path), listed.fields)
    elif scan.first_line is not None:
        reason = _line_problem(scan.first_line, listed.fields)
        bad = None if reason is None else (1, reason)
    else:
        bad = None
    if bad is not None:
        lineno, reason = bad
        code = "schema_mismatch" if reason.startswith("has ") else "jsonl_invalid"
        check.problem(code, f"line {lineno} {reason}")


def _first_bad_line(stream: _Stream, fields: Columns) -> tuple[int, str] | None:
    """The first line (1-based) that is not a JSON object of the fields, and why."""
    with stream as file:
        lines = io.BufferedReader(file) if isinstance(file, io.RawIOBase) else file
        for lineno, line in enumerate(iter(lambda: lines.readline(_LINE_LIMIT + 1), b""), 1):
            if len(line) > _LINE_LIMIT:
                return lineno, f"is longer than {_LINE_LIMIT >> 20} MiB; verify does not parse it"
            reason = _line_problem(line, fields)
            if reason is not None:
                return lineno, reason
    return None


def _line_problem(line: bytes, fields: Columns) -> str | None:
    """Why ``line`` is not one row of ``fields`` as DuckDB writes it; ``None`` when it is."""
    try:
        row: Any = json.loads(line)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        return f"is not JSON ({first_line(exc)})"
    if not isinstance(row, dict):
        return f"is JSON but not an object (a {type(row).__name__})"
    names = [name for name, _ in fields]
    if list(row) != names:
        return f"has keys {_short(list(row))}, the package's fields are {_short(names)}"
    for name, duckdb_type in fields:
        kinds = _JSON_KINDS.get(duckdb_type.upper())
        value = row[name]
        if kinds is None or value is None:
            continue
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            return f"has {name!r} = {_short(value)}, not a {duckdb_type} as the package says"
    return None


def _short(value: object, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_parquet(
    path: str, listed: Listed, reader: FileReader, check: FileCheck, *, read_all: bool
) -> None:
    """Rows and columns from the footer (every column decoded with ``read_all``)."""
    try:
        check.rows, check.columns = reader.footer(path)
        if read_all:
            reader.decode_all(path)
    except duckdb.Error as exc:
        check.problem("parquet_unreadable", f"is not a readable Parquet file: {first_line(exc)}")
        return
    if listed.rows is not None and check.rows != listed.rows:
        check.problem(
            "rows_mismatch", f"{check.rows} rows in its footer, the package says {listed.rows}"
        )
    difference = columns_difference(check.columns, listed.fields, reader.parquet_type)
    if difference is not None:
        check.problem("schema_mismatch", difference)


def columns_difference(actual: Columns, declared: Columns, read_back: Any = None) -> str | None:
    """How ``actual`` (name, type) columns differ from ``declared``; ``None`` when they agree.

    ``read_back(type)`` gives the type a declared one is read back as from a
    Parquet file (HUGEINT as DOUBLE...); a type equal to that agrees too.
    """
    actual_names, declared_names = [n for n, _ in actual], [n for n, _ in declared]
    if actual_names != declared_names:
        return f"columns {_short(actual_names)}, the package's fields are {_short(declared_names)}"
    for (name, actual_type), (_, declared_type) in zip(actual, declared, strict=True):
        if actual_type == declared_type:
            continue
        if read_back is not None and read_back(declared_type) == actual_type:
            continue
        return f"column {name!r} is {actual_type}, the package says {declared_type}"
    return None


def largest_first(items: Sequence[tuple[str, Listed]]) -> Iterator[tuple[str, Listed]]:
    """``items`` with the biggest files first, so one large file does not start last."""

    def size(item: tuple[str, Listed]) -> int:
        try:
            return Path(item[0]).stat().st_size
        except OSError:
            return 0

    return iter(sorted(items, key=size, reverse=True))
