"""Reading a ``datapackage.json`` for ``verify``: the document, its resources, safe paths.

The document as a whole is read by ``ducksets.manifest.read_manifest`` (one
parser for exports and verify); each resource is checked here, so that one
bad resource is one problem and the others are still verified. A resource
path must be relative, POSIX, free of ``..``, and must not lead out of the
directory through a symlink.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from ducksets._verify_files import Columns, Listed, ResourceFormat
from ducksets.errors import ExportError, first_line
from ducksets.filenames import LEGACY_MANIFEST_NAME as LEGACY_NAME
from ducksets.filenames import MANIFEST_NAME as PACKAGE_NAME
from ducksets.manifest import read_manifest

_SHA256 = re.compile(r"sha256:([0-9a-f]{64})")
_KEYS: dict[str, tuple[str, str]] = {
    # where each format keeps its size and hash (frictionless fails on Parquet "bytes")
    "jsonl": ("bytes", "hash"),
    "parquet": ("ducksets:bytes", "ducksets:hash"),
}


@dataclass(frozen=True)
class PackageProblem:
    """A problem found in the document itself (not by reading a data file)."""

    path: str | None
    code: str
    message: str
    resource: str | None = None


@dataclass(frozen=True)
class Package:
    """The resources a package lists, the files to read for them, and its problems."""

    resources: tuple[Listed, ...]
    """every resource of a valid shape (the data check compares these)"""
    files: tuple[tuple[str, Listed], ...]
    """(absolute path, resource) of each file to read: inside the directory, listed once"""
    problems: tuple[PackageProblem, ...]


def read_package(root: str) -> Package:
    """The package in directory ``root``; a missing or foreign one is a problem, not an error."""
    document = _document(root)
    if isinstance(document, PackageProblem):
        return Package((), (), (document,))
    real_root = os.path.realpath(root)
    return package_of(document, lambda path: _inside(real_root, path))


def package_of(document: Mapping[str, Any], locate: Callable[[str], str | tuple[str]]) -> Package:
    """The resources of ``document``; ``locate(path)`` gives each file's location, or (why not,)."""
    problems: list[PackageProblem] = []
    resources: list[Listed] = []
    for index, resource in enumerate(document["resources"], 1):
        listed = _listed(index, resource)
        if isinstance(listed, PackageProblem):
            problems.append(listed)
        else:
            resources.append(listed)
    files, seen = [], set()
    for listed in resources:
        if listed.path in seen:
            problems.append(_about(listed, "resource_invalid", "is listed twice in the package"))
            continue
        seen.add(listed.path)
        target = locate(listed.path)
        if isinstance(target, str):
            files.append((target, listed))
        else:
            problems.append(_about(listed, "path_unsafe", target[0]))
    return Package(tuple(resources), tuple(files), tuple(problems))


def _about(listed: Listed, code: str, message: str) -> PackageProblem:
    return PackageProblem(listed.path, code, message, listed.name)


def _document(root: str) -> Mapping[str, Any] | PackageProblem:
    """The parsed document, or the one problem that stops verification."""
    directory = Path(root)
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        return PackageProblem(None, "package_missing", f"{root} {what}; give an export directory")
    path = directory / PACKAGE_NAME
    if not path.exists() and not path.is_symlink():
        if (directory / LEGACY_NAME).is_file():
            message = (
                f"no {PACKAGE_NAME} in {root}, only a {LEGACY_NAME} of ducksets before 0.7; "
                "export again to write the data package"
            )
        else:
            message = f"no {PACKAGE_NAME} in {root}; verify checks a ducksets export directory"
        return PackageProblem(None, "package_missing", message)
    try:
        document = read_manifest(root)
    except ExportError as exc:
        return PackageProblem(None, "package_invalid", first_line(exc))
    if document is None:  # removed since the check above
        return PackageProblem(None, "package_missing", f"no {PACKAGE_NAME} in {root}")
    return document


def _listed(index: int, resource: object) -> Listed | PackageProblem:
    """Resource number ``index`` as a ``Listed``, or what is wrong with its shape."""
    if not isinstance(resource, dict):
        return PackageProblem(None, "resource_invalid", f"resource {index} is not an object")
    path, name = resource.get("path"), resource.get("name")
    where = path if isinstance(path, str) else None
    label = name if isinstance(name, str) else None

    def bad(reason: str) -> PackageProblem:
        return PackageProblem(where, "resource_invalid", f"resource {index} {reason}", label)

    if not isinstance(path, str):
        return bad(f"has path {path!r}, not one file path")
    fmt = resource.get("format")
    if fmt not in _KEYS:
        return bad(f"has format {fmt!r}; ducksets writes 'jsonl' or 'parquet'")
    size_key, hash_key = _KEYS[fmt]
    rows, size = resource.get("rows"), resource.get(size_key)
    for key, value in (("rows", rows), (size_key, size)):
        if value is not None and not _count(value):
            return bad(f"has {key!r} {value!r}, not a count")
    digest = _digest(resource.get(hash_key))
    if digest is None:
        return bad(f"has {hash_key!r} {resource.get(hash_key)!r}, not 'sha256:<64 hex digits>'")
    fields = _fields(resource.get("schema"))
    if isinstance(fields, str):
        return bad(fields)
    table_key = resource.get("ducksets:tableKey")
    return Listed(
        name=label or path,
        path=path,
        format=_format(fmt),
        rows=rows,
        bytes=size,
        sha256=digest or None,  # "" when none was recorded
        fields=fields,
        table_key=table_key if isinstance(table_key, str) else None,
    )


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _format(fmt: str) -> ResourceFormat:
    return "jsonl" if fmt == "jsonl" else "parquet"


def _digest(value: object) -> str | None:
    """The hex digest of a ``sha256:<hex>`` hash; ``""`` when absent, ``None`` when malformed."""
    if value is None:
        return ""
    match = _SHA256.fullmatch(value) if isinstance(value, str) else None
    return None if match is None else match.group(1)


def _fields(schema: object) -> Columns | str:
    """(name, DuckDB type) of each field, or why the schema is not one ducksets wrote."""
    fields = schema.get("fields") if isinstance(schema, dict) else None
    if not isinstance(fields, list):
        return "has no schema.fields list"
    columns = []
    for field in fields:
        name = field.get("name") if isinstance(field, dict) else None
        duckdb_type = field.get("ducksets:duckdbType") if isinstance(field, dict) else None
        if not isinstance(name, str) or not isinstance(duckdb_type, str):
            return f"has field {field!r} without a name and a 'ducksets:duckdbType'"
        columns.append((name, duckdb_type))
    return tuple(columns)


def _inside(real_root: str, path: str) -> str | tuple[str]:
    """The absolute file ``path`` names inside ``real_root``, or (why it does not,)."""
    reason = relative_problem(path)
    if reason is not None:
        return (reason,)
    real = os.path.realpath(Path(real_root).joinpath(*PurePosixPath(path).parts))
    if os.path.commonpath([real_root, real]) != real_root:
        return ("leads out of the directory through a symlink",)
    return real


def relative_problem(path: str) -> str | None:
    """Why ``path`` is not a relative POSIX path that stays below its directory, or ``None``."""
    posix, windows = PurePosixPath(path), PureWindowsPath(path)
    if not path.strip() or "\x00" in path:
        return "is not a usable file path"
    if "://" in path:
        return "is a URL; verify reads files inside the directory only"
    if posix.is_absolute() or windows.is_absolute() or windows.drive or "\\" in path:
        return "is not a relative POSIX path inside the directory"
    if ".." in posix.parts:
        return "leads out of the directory ('..')"
    return None
