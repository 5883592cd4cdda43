"""Reading the package of an S3 export (``s3://bucket/prefix``) for ``verify``.

The package is ``<prefix>/datapackage.json``; its resource paths are
relative to the prefix (``<run-id>/<file>``). The store, the credentials and
their errors are the S3 export's own (``ducksets._s3``, ``s3fs``); the objects
are read through the ``s3fs`` file system returned here, by DuckDB (registered
on its connection) and by the hashing workers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ducksets._verify_package import Package, PackageProblem, package_of, relative_problem
from ducksets.errors import ExportError, InvalidArgumentError, MissingExtraError, first_line
from ducksets.filenames import MANIFEST_NAME

_GLOB = re.compile(r"[*?\[\]{}]")


def read_s3_package(url: str) -> tuple[Package, Any]:
    """The package under ``url`` and the file system to read its objects with.

    Raises
    ------
    InvalidArgumentError
        ``url`` is not a usable ``s3://bucket/prefix``.
    MissingExtraError
        ``s3fs`` is not installed (``ducksets[s3]``).
    ObjectStoreError
        The store cannot be reached or read (unreachable endpoint, credentials, bucket).
    """
    from ducksets._s3 import ObjectStore, filesystem_options, import_s3fs, parse_s3_url
    from ducksets._s3_package import entries_of_package

    try:
        target = parse_s3_url(url)
    except InvalidArgumentError as exc:
        why = first_line(exc).replace("output_dir", "directory", 1)
        raise InvalidArgumentError(why, parameter="directory", value=url) from None
    try:
        s3fs = import_s3fs()
    except MissingExtraError:
        msg = "verifying s3:// needs s3fs, which is not installed; run: pip install 'ducksets[s3]'"
        raise MissingExtraError(msg, extra="s3") from None
    filesystem = s3fs.S3FileSystem(**filesystem_options())
    store = ObjectStore(target, filesystem)
    package_url = target.url_of(MANIFEST_NAME)
    read = store.read_text(MANIFEST_NAME)
    if read is None:
        message = f"no {MANIFEST_NAME} at {package_url}; verify checks a ducksets export prefix"
        return Package((), (), (PackageProblem(None, "package_missing", message),)), filesystem
    text = read[0]
    try:
        entries_of_package(text, package_url)  # the S3 export's own test of "ours"
    except ExportError as exc:
        problem = PackageProblem(None, "package_invalid", first_line(exc))
        return Package((), (), (problem,)), filesystem

    def locate(path: str) -> str | tuple[str]:
        reason = relative_problem(path)
        if reason is None and _GLOB.search(path):
            # DuckDB expands these in an s3:// URL: it would read other objects than listed.
            reason = "holds a glob character (* ? [ ] { }), which readers of s3:// expand"
        return target.url_of(path) if reason is None else (reason,)

    return package_of(json.loads(text), locate), filesystem
