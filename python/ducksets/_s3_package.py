"""The package document of an S3 export, as text: rendered and parsed by ``ducksets.manifest``.

The S3 export keeps no layout of its own: entries are the same dicts a local
export merges (``ExportedFile.to_dict()``, described by ``describe_entries``),
with ``file`` the object's path under the prefix (``<run-id>/<file>``), which
becomes the resource's relative ``path``.
"""

from __future__ import annotations

import json
from typing import Any

from ducksets import manifest
from ducksets._datapackage import FORMAT, document_entries, is_ours
from ducksets.errors import ExportError


def package_text(entries: list[dict[str, Any]], installed_pack_version: str | None) -> str:
    """The package document listing ``entries``."""
    return manifest.manifest_text(entries, installed_pack_version)


def entries_of_package(text: str, url: str) -> list[dict[str, Any]]:
    """The entries of the package document ``text`` (read from ``url``).

    Raises
    ------
    ExportError
        The document is not one ducksets wrote, or a newer ducksets wrote it.
    """
    hint = "move it away or export to another prefix (ducksets replaces its own package)"
    try:
        document = json.loads(text)
    except ValueError as exc:
        msg = f"{url} is not a data package ducksets wrote ({exc}); {hint}"
        raise ExportError(msg) from exc
    if not is_ours(document):
        msg = f"{url} is not a data package ducksets wrote (no ducksets:format); {hint}"
        raise ExportError(msg)
    if document["ducksets:format"] > FORMAT:
        msg = f"{url} was written by a newer ducksets; upgrade ducksets or export elsewhere"
        raise ExportError(msg)
    return document_entries(document)
