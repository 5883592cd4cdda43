"""The export manifest (``datapackage.json``, a Frictionless Data Package): read, merge, write.

The manifest lists every ducksets file in a directory, one resource per file:
dataset, format, rows, bytes, SHA-256, Table Schema fields (the DuckDB type
kept beside each), descriptions from ``COMMENT ON``, and ``mtime_ns``
(``ducksets._datapackage`` has the layout). In memory each file is an entry
dict (``ExportedFile.to_dict()``); this module reads and writes documents of
them. An entry is kept from an earlier run only while it still describes its
file byte for byte: size and ``st_mtime_ns`` unchanged, or, when they moved,
the file still hashes to the recorded SHA-256 (then ``mtime_ns`` is
refreshed). Anything else is dropped. (A same-size rewrite within one tick of
a coarse file-system clock keeps ``mtime_ns``; pass ``keep_existing=False``
to list only fresh files.)

Earlier versions wrote ``manifest.json`` (their own dialect). Where there is
no ``datapackage.json``, a ``manifest.json`` ducksets wrote is read instead,
and the next export publishes ``datapackage.json`` and removes it in the same
all-or-nothing publish. A ``manifest.json`` ducksets did not write is not
ours: it is left alone. A ``datapackage.json`` ducksets did not write stops
the export (``ExportError``): ducksets would replace it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from ducksets._comments import NO_COMMENTS, Comments, relation_comments
from ducksets._datapackage import (
    FORMAT,
    document_entries,
    package_document,
    parsed_document,
)
from ducksets._hashing import file_digest
from ducksets.errors import ExportError, InvalidFilenameError, InvalidTableKeyError, first_line
from ducksets.filenames import LEGACY_MANIFEST_NAME, MANIFEST_NAME, check_filename
from ducksets.keys import TableKey, parse_table_key
from ducksets.pack import pack_version

MANIFEST_FORMAT = FORMAT
_ENCODER = json.JSONEncoder(ensure_ascii=False)
"""``json.dumps(..., ensure_ascii=False)`` made once: dumps makes an encoder per call."""
_FORMATS = ("jsonl", "parquet")


def read_manifest(output_dir: str | Path) -> Mapping[str, Any] | None:
    """The data package of ``output_dir`` as parsed JSON, or ``None`` when there is none.

    Without ``datapackage.json``, a ``manifest.json`` of an earlier ducksets is
    read and returned in the data-package layout (as the next export writes it).

    Raises
    ------
    ExportError
        ``datapackage.json`` exists but is not one ducksets wrote, or was
        written by a newer ducksets.
    """
    path = Path(output_dir) / MANIFEST_NAME
    if not path.exists() and not path.is_symlink():
        return _legacy_document(Path(output_dir))
    hint = "move it away or export elsewhere (ducksets replaces its own datapackage.json)"
    try:
        if path.is_symlink() or not path.is_file():
            raise ValueError("not a regular file")
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        msg = f"{path} is not a data package ducksets wrote ({exc}); {hint}"
        raise ExportError(msg) from exc
    return parsed_document(text, path, hint)


def legacy_entries(directory: Path) -> list[dict[str, Any]] | None:
    """The well-formed entries of ducksets' own ``manifest.json`` in ``directory``.

    ``None`` when there is none, or the file is not one ducksets wrote (then
    it is somebody else's and is left alone).
    """
    path = directory / LEGACY_MANIFEST_NAME
    try:
        if path.is_symlink() or not path.is_file():
            return None
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(manifest, dict)
        or "ducksets_manifest" not in manifest
        or not isinstance(manifest.get("datasets"), list)
    ):
        return None
    return [e for e in manifest["datasets"] if _well_formed(e)]


def _well_formed(entry: object) -> bool:
    """An entry with what rendering needs (a hand-edited legacy manifest may lack it)."""
    if not isinstance(entry, dict):
        return False
    columns = entry.get("columns")
    return (
        isinstance(entry.get("name"), str)
        and isinstance(entry.get("file"), str)
        and entry.get("format") in _FORMATS
        and isinstance(columns, list)
        and all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in columns)
    )


def _legacy_document(directory: Path) -> dict[str, Any] | None:
    """The legacy ``manifest.json`` of ``directory`` as a data package; ``None`` without one."""
    entries = legacy_entries(directory)
    if entries is None:
        return None
    manifest = json.loads((directory / LEGACY_MANIFEST_NAME).read_text(encoding="utf-8"))
    head = _head(manifest.get("installed_pack_version"))
    head["created"] = manifest.get("written_at")
    head["ducksets:packVersion"] = manifest.get("pack_version")
    head["ducksets:duckdbVersion"] = manifest.get("duckdb_version")
    return package_document(entries, head)


def manifest_entries(directory: Path) -> list[dict[str, Any]]:
    """The entries of the manifest in ``directory`` that name a plain file; none without one.

    Raises ``ExportError`` as ``read_manifest``.
    """
    document = read_manifest(directory)
    if document is None:
        return []
    return [e for e in document_entries(document) if _plain(e.get("file"))]


def _plain(file: object) -> bool:
    try:
        return isinstance(file, str) and check_filename(file) is not None
    except InvalidFilenameError:
        return False


def still_exact(directory: Path, entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """``entry`` (``mtime_ns`` refreshed if needed) when its file still matches, else ``None``.

    An entry with ``parts`` (a directory of Parquet files) matches when its
    directory is a real directory and every part still matches.
    """
    if entry.get("parts"):
        return _parts_still_exact(directory, entry)
    path = directory / entry["file"]
    try:
        status = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode) or status.st_size != entry.get("bytes"):
        return None
    if status.st_mtime_ns == entry.get("mtime_ns"):
        return dict(entry)
    recorded = entry.get("sha256")
    if not isinstance(recorded, str):
        return None  # nothing to compare the changed file with
    try:
        _, digest = file_digest(path)
    except OSError:
        return None
    return {**entry, "mtime_ns": status.st_mtime_ns} if digest == recorded else None


def _parts_still_exact(directory: Path, entry: Mapping[str, Any]) -> dict[str, Any] | None:
    folder = directory / entry["file"]
    try:
        if not stat.S_ISDIR(folder.lstat().st_mode):
            return None
    except OSError:
        return None
    parts = []
    for part in entry["parts"]:
        # The part's own path must not pass through a symlink out of the folder.
        inner = Path(folder, part["path"])
        if any(p.is_symlink() for p in [inner, *inner.parents][: part["path"].count("/") + 1]):
            return None
        kept = still_exact(folder, {**part, "file": part["path"]})
        if kept is None:
            return None
        kept.pop("file")
        parts.append(kept)
    return {**entry, "parts": parts}


def merge_entries(
    directory: Path,
    fresh: Mapping[str, Mapping[str, Any]],
    *,
    keep_existing: bool,
    earlier: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The fresh entries plus the earlier ones still exact, sorted by file name.

    ``earlier``: the directory's ``manifest_entries``, when the caller has just read them.
    """
    entries = {file: dict(entry) for file, entry in fresh.items()}
    if keep_existing:
        taken = {file.casefold() for file in entries}
        for entry in manifest_entries(directory) if earlier is None else earlier:
            if entry["file"].casefold() in taken:
                continue
            kept = still_exact(directory, entry)
            if kept is not None:
                entries[entry["file"]] = kept
                taken.add(entry["file"].casefold())
    return [entries[file] for file in sorted(entries)]


def manifest_text(entries: list[dict[str, Any]], installed_pack_version: str | None) -> str:
    """The data package listing ``entries`` (sorted by path), as JSON text."""
    document = package_document(entries, _head(installed_pack_version))
    resources = document.pop("resources")
    # One line per resource: json's C encoder writes compact text only, and the
    # indented encoder (pure Python) took longer than the COPYs of tiny datasets.
    head = json.dumps({**document, "resources": []}, indent=2, ensure_ascii=False)
    head = head[: -len("[]\n}")]
    lines = ",\n".join(f"    {_ENCODER.encode(r)}" for r in resources)
    return f"{head}[\n{lines}\n  ]\n}}\n" if resources else f"{head}[]\n}}\n"


def _head(installed_pack_version: str | None) -> dict[str, Any]:
    """The top-level keys of a document written now."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    return {
        "created": now.isoformat().replace("+00:00", "Z"),
        "ducksets:format": FORMAT,
        "ducksets:packVersion": pack_version(),
        "ducksets:installedPackVersion": installed_pack_version,
        "ducksets:duckdbVersion": duckdb.__version__,
    }


def describe_entries(
    con: duckdb.DuckDBPyConnection, entries: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``entries`` with the relation's and its columns' comments as ``description``s.

    One catalog query for all (``_comments.relation_comments``).

    Raises
    ------
    ExportError
        The comments could not be read.
    """
    keys: dict[str, TableKey] = {}
    for entry in entries.values():
        try:
            keys[entry["table_key"]] = parse_table_key(entry["table_key"])
        except (InvalidTableKeyError, TypeError):
            continue  # it was exported under this key, so this does not happen
    try:
        comments = relation_comments(con, list(keys.values()))
    except duckdb.Error as exc:
        msg = f"cannot read the datasets' comments for the manifest: {first_line(exc)}"
        raise ExportError(msg) from exc
    return described_entries(
        entries,
        {
            name: comments.get(keys[entry["table_key"]], NO_COMMENTS)
            if entry["table_key"] in keys
            else NO_COMMENTS
            for name, entry in entries.items()
        },
    )


def described_entries(
    entries: Mapping[str, Mapping[str, Any]], comments: Mapping[str, Comments]
) -> dict[str, dict[str, Any]]:
    """``entries`` with the comments given by file name as ``description``s.

    An export reads the comments in the snapshot it exported
    (``_export_copy.Stager.descriptions``); ``describe_entries`` reads them now.
    """
    described = {}
    for name, entry in entries.items():
        found = comments.get(name, NO_COMMENTS)
        copy = dict(entry)
        if found:
            if found.table is not None:
                copy["description"] = found.table
            copy["columns"] = [
                {**c, "description": found.columns[c["name"]]}
                if c["name"] in found.columns
                else dict(c)
                for c in entry["columns"]
            ]
        described[name] = copy
    return described


def write_new(path: Path, text: str, *, target: Path) -> None:
    """Write ``text`` to a new file ``path`` (staging for ``target``), flushed to disk.

    Raises
    ------
    ExportError
        The write failed (disk full, file-size limit, ...); names the path and the cause.
    """
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        msg = (
            f"cannot write {target} (staged at {path}): {exc.strerror or exc}; "
            "nothing was published, every file and the manifest are as before"
        )
        raise ExportError(msg) from exc
