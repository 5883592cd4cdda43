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
from dataclasses import dataclass, replace
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
    return package_of(
        document,
        lambda path: _inside(real_root, path),
        lambda listed: _unlisted(real_root, listed),
    )


def package_of(
    document: Mapping[str, Any],
    locate: Callable[[str], str | tuple[str]],
    unlisted: Callable[[Listed], list[str]] | None = None,
) -> Package:
    """The resources of ``document``; ``locate(path)`` gives each file's location, or (why not,).

    ``unlisted(resource)`` names the files in a folder resource's folder that
    the package does not list.
    """
    problems: list[PackageProblem] = []
    resources: list[Listed] = []
    for index, resource in enumerate(document["resources"], 1):
        listed = _listed(index, resource)
        if isinstance(listed, PackageProblem):
            problems.append(listed)
        else:
            resources.append(listed)
    files, seen = [], set()
    for resource in resources:
        for listed in resource.parts or (resource,):
            if listed.path in seen:
                problems.append(_about(listed, "resource_invalid", "is listed twice"))
                continue
            seen.add(listed.path)
            target = locate(listed.path)
            if isinstance(target, str):
                files.append((target, listed))
            else:
                problems.append(_about(listed, "path_unsafe", target[0]))
        strays = unlisted(resource) if resource.parts and unlisted is not None else []
        if strays:
            message = (
                f"holds {', '.join(strays[:3])}{' ...' if len(strays) > 3 else ''}, which the "
                "package does not list (a reader of the folder reads it too)"
            )
            problems.append(_about(resource, "file_unlisted", message))
    return Package(tuple(resources), tuple(files), tuple(problems))


def _unlisted(real_root: str, resource: Listed) -> list[str]:
    """The files below a folder resource's folder that it does not list (hidden ones aside)."""
    folder = _inside(real_root, resource.path)
    if not isinstance(folder, str) or not Path(folder).is_dir():
        return []
    listed = {part.path for part in resource.parts}
    found = []
    for here, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            relative = Path(here, name).relative_to(folder).as_posix()
            path = f"{resource.path}/{relative}"
            if not name.startswith(".") and path not in listed:
                found.append(path)
    return found


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
    paths = path if isinstance(path, list) else None
    if paths is not None:
        path = _folder(paths)
    where = path if isinstance(path, str) else None
    label = name if isinstance(name, str) else None

    def bad(reason: str) -> PackageProblem:
        return PackageProblem(where, "resource_invalid", f"resource {index} {reason}", label)

    if not isinstance(path, str):
        return bad(f"has path {resource.get('path')!r}, not a file path or a folder's file paths")
    fmt = resource.get("format")
    if fmt not in _KEYS:
        return bad(f"has format {fmt!r}; ducksets writes 'jsonl' or 'parquet'")
    size_key, hash_key = _KEYS[fmt]
    rows_key = "ducksets:rows" if paths is not None else "rows"
    rows, size = resource.get(rows_key), resource.get(size_key)
    for key, value in ((rows_key, rows), (size_key, size)):
        if value is not None and not _count(value):
            return bad(f"has {key!r} {value!r}, not a count")
    digest = _digest(resource.get(hash_key))
    if digest is None:
        return bad(f"has {hash_key!r} {resource.get(hash_key)!r}, not 'sha256:<64 hex digits>'")
    fields = _fields(resource.get("schema"))
    if isinstance(fields, str):
        return bad(fields)
    table_key = resource.get("ducksets:tableKey")
    listed = Listed(
        name=label or path,
        path=path,
        format=_format(fmt),
        rows=rows,
        bytes=size,
        sha256=digest or None,  # "" when none was recorded
        fields=fields,
        table_key=table_key if isinstance(table_key, str) else None,
    )
    if paths is None:
        return listed
    parts = _parts(listed, paths, resource.get("ducksets:files"))
    return bad(parts) if isinstance(parts, str) else replace(listed, parts=parts)


def _folder(paths: list[Any]) -> str | None:
    """The folder of a folder resource: the first segment every path shares; else ``None``.

    Not the paths' common prefix: when every file sits in one partition
    (``items.parquet/part=7/...``) the folder readers read is still ``items.parquet``.
    """
    if not paths or not all(isinstance(p, str) and "/" in p for p in paths):
        return None
    folder = paths[0].split("/", 1)[0]
    return folder if folder and all(p.startswith(f"{folder}/") for p in paths) else None


def _parts(resource: Listed, paths: list[str], files: object) -> tuple[Listed, ...] | str:
    """A folder resource's files as ``ducksets:files`` lists them, or what is wrong with it."""
    if (
        not isinstance(files, list)
        or [f.get("path") if isinstance(f, dict) else None for f in files] != paths
    ):
        return "has a 'ducksets:files' list that does not list its paths one by one"
    parts = []
    for file in files:
        rows, size, digest = file.get("rows"), file.get("bytes"), _digest(file.get("hash"))
        if not all(v is None or _count(v) for v in (rows, size)) or digest is None:
            return f"lists file {file['path']!r} without counts or with a malformed hash"
        parts.append(
            replace(resource, path=file["path"], rows=rows, bytes=size, sha256=digest or None)
        )
    return tuple(parts)


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
