"""The export manifest as a Frictionless Data Package (v2): entries to document and back.

ducksets keeps one entry dict per exported file (``ExportedFile.to_dict()``:
``name``, ``table_key``, ``kind``, ``file``, ``format``, ``rows``, ``bytes``,
``sha256``, ``mtime_ns``, ``columns``, and ``description`` when the relation
has a comment). This module turns a list of them into the ``datapackage.json``
document, one resource per file, and a document back into entries.

What ``frictionless validate`` checks decides the layout (measured with
frictionless 5.21): ``bytes`` and ``hash`` are checked for JSONL, while a
Parquet resource with ``bytes`` always fails, so Parquet keeps them as
``ducksets:bytes``/``ducksets:hash``. Field types are Table Schema types with
the DuckDB type beside them (``ducksets:duckdbType``); frictionless reads
Parquet through pandas, so a type it cannot check there (a list arrives as a
numpy array, a UUID as ``uuid.UUID``, a blob as bytes) is ``any`` in a
Parquet resource, and an integer column's NULL, which pandas makes ``nan``,
is declared a missing value. DuckDB's JSON writer puts a space between date
and time (``2024-01-02 03:04:05.5``), not Table Schema's default ``T``, and
its ``TIMESTAMPFORMAT`` option writes NUL bytes on DuckDB 1.1-1.5, so the
JSONL schema states the format instead: ``any`` (ISO 8601 with a space).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from ducksets.errors import ExportError

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
FORMAT = 2
"""``ducksets:format`` of the documents this version writes and reads."""
PACKAGE_NAME = "ducksets-export"
MEDIATYPES = {"jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet"}
_HASH_PREFIX = "sha256:"

_INTEGERS = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
    "INT1", "INT2", "INT4", "INT8", "INT", "LONG", "SHORT", "SIGNED", "INT128",
    "UINT8", "UINT16", "UINT32", "UINT64", "UINT128",
}  # fmt: skip
_NUMBERS = {"FLOAT", "DOUBLE", "DECIMAL", "NUMERIC", "REAL", "FLOAT4", "FLOAT8"}
_SCALARS = {
    "BOOLEAN": "boolean", "BOOL": "boolean",
    "VARCHAR": "string", "TEXT": "string", "STRING": "string", "CHAR": "string", "BPCHAR": "string",
    "ENUM": "string", "BIT": "string", "BITSTRING": "string", "UUID": "string",
    "BLOB": "string", "BYTEA": "string", "VARBINARY": "string", "BINARY": "string",
    "DATE": "date", "TIME": "time", "TIME WITH TIME ZONE": "time", "TIMETZ": "time",
    "TIMESTAMP": "datetime", "DATETIME": "datetime", "TIMESTAMP_S": "datetime",
    "TIMESTAMP_MS": "datetime", "TIMESTAMP_NS": "datetime", "TIMESTAMP_US": "datetime",
    "TIMESTAMP WITH TIME ZONE": "datetime", "TIMESTAMPTZ": "datetime",
}  # fmt: skip
# What pandas hands frictionless for these in a Parquet file is no Table
# Schema value (numpy array, list of pairs, uuid.UUID, bytes): "any" there.
_PARQUET_ANY = {"array", "map", "UUID", "BLOB", "BYTEA", "VARBINARY", "BINARY"}


def field_type(duckdb_type: str, fmt: str) -> dict[str, str]:
    """The Table Schema ``type`` (and ``format``) of a column of ``duckdb_type`` in ``fmt``.

    >>> field_type("DECIMAL(18,3)", "jsonl"), field_type("INTEGER[]", "parquet")
    ({'type': 'number'}, {'type': 'any'})
    """
    return dict(_field_type(duckdb_type, fmt))


@lru_cache(maxsize=4096)
def _field_type(duckdb_type: str, fmt: str) -> Mapping[str, str]:
    """``field_type``, computed once per type and format: a package repeats a few types."""
    text = duckdb_type.strip()
    upper = text.upper()
    if upper.endswith("]"):
        kind, base = "array", "array"
    elif upper.startswith("MAP("):
        kind, base = "object", "map"
    elif upper.startswith("STRUCT("):
        kind, base = "object", "struct"
    else:
        base = re.sub(r"\s*\(.*$", "", upper, flags=re.DOTALL).strip()
        if base in _INTEGERS:
            kind = "integer"
        elif base in _NUMBERS:
            kind = "number"
        else:
            # INTERVAL is written "1 day 02:00:00", no ISO 8601 duration; UNION, user types: any
            kind = _SCALARS.get(base, "any")
    if fmt == "parquet" and base in _PARQUET_ANY:
        return MappingProxyType({"type": "any"})
    typed = {"type": kind}
    if kind == "datetime" and fmt == "jsonl":
        typed["format"] = "any"  # "2024-01-02 03:04:05[.f][+hh]": a space, not Table Schema's T
    elif base == "UUID" and fmt == "jsonl":
        typed["format"] = "uuid"
    return MappingProxyType(typed)


def package_document(
    entries: Sequence[Mapping[str, Any]], head: Mapping[str, Any]
) -> dict[str, Any]:
    """The data package listing ``entries`` (sorted by path), with ``head``'s top-level keys."""
    resources = []
    taken: set[str] = set()
    for entry in sorted(entries, key=lambda e: str(e["file"])):
        resources.append(_resource(entry, _unique(_resource_name(entry), taken)))
    return {"$schema": PROFILE, "name": PACKAGE_NAME, **head, "resources": resources}


def _resource_name(entry: Mapping[str, Any]) -> str:
    """``<dataset>-<format>``, lowercased, every character outside ``[a-z0-9._-]`` a ``-``."""
    return re.sub(r"[^a-z0-9._-]", "-", f"{entry['name']}-{entry['format']}".lower())


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate)
    return candidate


def _resource(entry: Mapping[str, Any], name: str) -> dict[str, Any]:
    fmt = str(entry["format"])
    parquet = fmt == "parquet"
    parts = entry.get("parts")
    resource: dict[str, Any] = {
        "name": name,
        "path": [f"{entry['file']}/{p['path']}" for p in parts] if parts else entry["file"],
        "format": fmt,
        "mediatype": MEDIATYPES.get(fmt, "application/octet-stream"),
    }
    # frictionless reads only the first file of a multipart Parquet resource, so
    # the total would fail its row check there: kept as ducksets:rows.
    resource["ducksets:rows" if parts else "rows"] = entry["rows"]
    # frictionless checks JSONL's bytes and hash, and fails any Parquet resource with bytes.
    resource["ducksets:bytes" if parquet else "bytes"] = entry["bytes"]
    if entry.get("sha256"):
        resource["ducksets:hash" if parquet else "hash"] = _HASH_PREFIX + str(entry["sha256"])
    if parts:
        resource["ducksets:files"] = [_part(entry["file"], p) for p in parts]
    resource["title"] = entry["name"]
    if entry.get("description"):
        resource["description"] = entry["description"]
    resource["ducksets:dataset"] = entry["name"]
    resource["ducksets:tableKey"] = entry["table_key"]
    resource["ducksets:kind"] = entry["kind"]
    resource["ducksets:mtimeNs"] = entry.get("mtime_ns")
    resource["schema"] = {"fields": [_field(column, fmt) for column in entry["columns"]]}
    return resource


def _part(folder: str, part: Mapping[str, Any]) -> dict[str, Any]:
    listed: dict[str, Any] = {
        "path": f"{folder}/{part['path']}",
        "bytes": part["bytes"],
        "rows": part["rows"],
    }
    if part.get("sha256"):
        listed["hash"] = _HASH_PREFIX + str(part["sha256"])
    listed["ducksets:mtimeNs"] = part.get("mtime_ns")
    return listed


def _field(column: Mapping[str, Any], fmt: str) -> dict[str, Any]:
    typed = _field_type(str(column["type"]), fmt)
    field: dict[str, Any] = {"name": column["name"], **typed}
    if fmt == "parquet" and typed["type"] == "integer":
        # pandas reads an integer column holding NULL as floats, NULL as nan
        field["missingValues"] = ["", "nan"]
    field["ducksets:duckdbType"] = column["type"]
    if column.get("description"):
        field["description"] = column["description"]
    return field


def is_ours(document: object) -> bool:
    """True when ``document`` is a data package ducksets wrote (any ``ducksets:format``)."""
    return (
        isinstance(document, dict)
        and isinstance(document.get("ducksets:format"), int)
        and isinstance(document.get("resources"), list)
    )


def parsed_document(text: str, where: object, hint: str) -> dict[str, Any]:
    """The ducksets data package in ``text`` (read from ``where``).

    Raises
    ------
    ExportError
        ``text`` is not a data package ducksets wrote, or a newer ducksets wrote it;
        names ``where`` and ends with ``hint`` (what to do).
    """
    try:
        document = json.loads(text)
    except ValueError as exc:
        msg = f"{where} is not a data package ducksets wrote ({exc}); {hint}"
        raise ExportError(msg) from exc
    if not is_ours(document):
        msg = f"{where} is not a data package ducksets wrote (no ducksets:format); {hint}"
        raise ExportError(msg)
    if document["ducksets:format"] > FORMAT:
        msg = (
            f"{where} was written by a newer ducksets (ducksets:format "
            f"{document['ducksets:format']}); upgrade ducksets or export elsewhere"
        )
        raise ExportError(msg)
    return dict(document)


def document_entries(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entries of a ducksets data package; a resource ducksets did not write is skipped."""
    entries = []
    for resource in document.get("resources", []):
        entry = resource_entry(resource)
        if entry is not None:
            entries.append(entry)
    return entries


def resource_entry(resource: object) -> dict[str, Any] | None:
    """The entry a resource describes, or ``None`` when it lacks what ducksets writes."""
    if not isinstance(resource, dict):
        return None
    parquet = resource.get("format") == "parquet"
    schema = resource.get("schema")
    fields = schema.get("fields") if isinstance(schema, dict) else None
    path, dataset = resource.get("path"), resource.get("ducksets:dataset")
    parts = None
    if isinstance(path, list):
        path, parts = _parts(path, resource.get("ducksets:files"))
    if not (isinstance(path, str) and isinstance(dataset, str) and isinstance(fields, list)):
        return None
    if not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in fields):
        return None
    digest = resource.get("ducksets:hash" if parquet else "hash")
    sha256 = None
    if isinstance(digest, str) and digest.startswith(_HASH_PREFIX):
        sha256 = digest[len(_HASH_PREFIX) :]
    entry: dict[str, Any] = {
        "name": dataset,
        "table_key": resource.get("ducksets:tableKey"),
        "kind": resource.get("ducksets:kind"),
        "file": path,
        "format": resource.get("format"),
        "rows": resource.get("ducksets:rows" if parts else "rows"),
        "bytes": resource.get("ducksets:bytes" if parquet else "bytes"),
        "sha256": sha256,
        "mtime_ns": resource.get("ducksets:mtimeNs"),
        "columns": [_column(f) for f in fields],
    }
    if isinstance(resource.get("description"), str):
        entry["description"] = resource["description"]
    if parts:
        entry["parts"] = parts
    return entry


def _parts(paths: list[Any], files: object) -> tuple[str | None, list[dict[str, Any]] | None]:
    """The folder and part entries of a multipart resource; ``(None, None)`` when malformed.

    Every path must be ``<folder>/<plain relative path>`` with one folder, and
    ``ducksets:files`` must list exactly those paths: a path that could leave
    the folder (``..``, absolute, backslash) makes the whole resource foreign.
    """
    if not paths or not isinstance(files, list) or len(files) != len(paths):
        return None, None
    folder = paths[0].split("/", 1)[0] if isinstance(paths[0], str) else None
    parts = []
    for path, listed in zip(paths, files, strict=True):
        if not (
            isinstance(path, str)
            and isinstance(listed, dict)
            and listed.get("path") == path
            and path.startswith(f"{folder}/")
            and _safe_relative(path)
        ):
            return None, None
        digest = listed.get("hash")
        parts.append(
            {
                "path": path[len(f"{folder}/") :],
                "rows": listed.get("rows"),
                "bytes": listed.get("bytes"),
                "sha256": digest[len(_HASH_PREFIX) :]
                if isinstance(digest, str) and digest.startswith(_HASH_PREFIX)
                else None,
                "mtime_ns": listed.get("ducksets:mtimeNs"),
            }
        )
    return folder, parts


def _safe_relative(path: str) -> bool:
    """A relative posix path of plain names (no ``.``, ``..``, empty part, backslash, NUL)."""
    return (
        bool(path)
        and not path.startswith("/")
        and "\\" not in path
        and "\0" not in path
        and all(p not in {"", ".", ".."} for p in path.split("/"))
    )


def _column(field: Mapping[str, Any]) -> dict[str, Any]:
    column = {"name": field["name"], "type": field.get("ducksets:duckdbType", field.get("type"))}
    if isinstance(field.get("description"), str):
        column["description"] = field["description"]
    return column
