"""The package document of an S3 export, as text: rendered and parsed by ``ducksets.manifest``.

The S3 export keeps no layout of its own: entries are the same dicts a local
export merges (``ExportedFile.to_dict()``, described by ``described_entries``),
with ``file`` the object's path under the prefix (``<run-id>/<file>``), which
becomes the resource's relative ``path``.
"""

from __future__ import annotations

from typing import Any

from ducksets import manifest
from ducksets._datapackage import document_entries, parsed_document


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
    return document_entries(parsed_document(text, url, hint))
