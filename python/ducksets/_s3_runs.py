"""The runs of S3 exports: run ids, the grace period, orphans and their removal.

Each run writes its objects under ``<prefix>/<run-id>/``. An object no live
package references is an orphan; it is deleted once the grace period has
passed since a package dropped it (the ``RETIRED`` marker its run folder gets
then) or, without a marker, since it was written. Only names shaped like a
ducksets run's are ever deleted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from ducksets._s3 import ObjectInfo, ObjectStore
from ducksets.errors import ConfigError, ObjectStoreError
from ducksets.filenames import TEMP_PREFIX

GRACE_ENV = "DUCKSETS_S3_ORPHAN_GRACE_SECONDS"
DEFAULT_GRACE = dt.timedelta(hours=1)
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")
RETIRED = f"{TEMP_PREFIX}retired"
"""Marker in a run's folder: when a package last dropped objects of it (a reserved name)."""
_RUN_OBJECT = re.compile(rf"({RUN_ID.pattern})/[^/]+")


def orphan_grace() -> dt.timedelta:
    """How old an unreferenced object must be before a run deletes it (``GRACE_ENV``).

    Raises
    ------
    ConfigError
        The variable is set to something other than a number of seconds >= 0.
    """
    text = os.environ.get(GRACE_ENV)
    if text is None or not text.strip():
        return DEFAULT_GRACE
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        msg = f"{GRACE_ENV}={text!r} is not a number of seconds >= 0; unset it or fix it"
        raise ConfigError(msg)
    return dt.timedelta(seconds=seconds)


def new_run_id() -> str:
    """A run id: UTC time to the second and 32 random bits, sortable, never reused."""
    now = dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"


def remove_orphans(
    store: ObjectStore,
    listing: dict[str, ObjectInfo],
    live_entries: Sequence[dict[str, Any]],
    grace: dt.timedelta,
) -> tuple[str, ...]:
    """Delete run objects the live package does not reference, past the grace; their URLs.

    Only objects named like a ducksets run's (``<run-id>/<file>``) are candidates:
    anything else under the prefix is not ours and is left alone. The grace
    counts from the run's ``RETIRED`` marker (written when a package dropped
    some of its objects) or, without one, from the object's own time. A marker
    goes with the last object of its run.
    """
    referenced = {entry["file"] for entry in live_entries}
    cutoff = dt.datetime.now(dt.timezone.utc) - grace
    markers = {
        relative.split("/")[0]: info.modified
        for relative, info in listing.items()
        if _RUN_OBJECT.fullmatch(relative) and relative.endswith(f"/{RETIRED}")
    }
    orphans = [
        relative
        for relative, info in listing.items()
        if _RUN_OBJECT.fullmatch(relative)
        and not relative.endswith(f"/{RETIRED}")
        and relative not in referenced
        and markers.get(relative.split("/")[0], info.modified) <= cutoff
    ]
    runs_left = {r.split("/")[0] for r in listing if r not in orphans and not r.endswith(RETIRED)}
    orphans += [f"{run}/{RETIRED}" for run in markers if run not in runs_left]
    orphans.sort()
    if orphans:
        store.delete(orphans)
        for relative in orphans:
            del listing[relative]
    return tuple(store.target.url_of(r) for r in orphans if not r.endswith(f"/{RETIRED}"))


def mark_retired(store: ObjectStore, dropped: Iterable[str]) -> None:
    """Write the ``RETIRED`` marker of each run some of whose objects ``dropped`` names.

    Best effort, after the package is written: without a marker the grace
    counts from the objects' own times.
    """
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    for run in sorted({path.split("/")[0] for path in dropped if _RUN_OBJECT.fullmatch(path)}):
        with contextlib.suppress(ObjectStoreError):
            store.write_marker(f"{run}/{RETIRED}", f'{{"retired": "{now}"}}\n')
