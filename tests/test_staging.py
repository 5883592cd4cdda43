"""Locks and staging directories (``ducksets._staging``): creation, cleanup, dead staging."""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path

import pytest

from ducksets._staging import (
    STAGING_LOCK,
    directory_lock,
    open_staging,
    remove_dead_staging,
    remove_staging,
)
from ducksets.errors import ExportError
from ducksets.filenames import LOCK_NAME, MANIFEST_NAME, TEMP_PREFIX


def held_by_another(lock: Path) -> bool:
    """Whether another open file description holds ``lock`` (an flock conflicts)."""
    with lock.open("rb") as stream:
        try:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False


def test_a_staging_directory_is_made_locked_and_removed(tmp_path: Path) -> None:
    with directory_lock(tmp_path):
        staging = open_staging(tmp_path)
    assert re.fullmatch(re.escape(TEMP_PREFIX) + "[0-9a-f]{16}", staging.path.name)
    assert sorted(p.name for p in staging.path.iterdir()) == [STAGING_LOCK, "files", "old"]
    assert staging.files == staging.path / "files"
    assert staging.manifest == staging.path / MANIFEST_NAME
    assert held_by_another(staging.path / STAGING_LOCK)  # held for the directory's whole life
    (staging.files / "x.jsonl").write_text("{}\n")
    staging.close()
    assert not staging.path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_NAME]


def test_a_staging_directory_cut_short_mid_publish_or_kept_stays(tmp_path: Path) -> None:
    with directory_lock(tmp_path):
        unfinished, kept = open_staging(tmp_path), open_staging(tmp_path)
    (unfinished.path / "publish.json").write_text(json.dumps({"publish": [], "remove": []}))
    unfinished.manifest.write_text("{}")  # the manifest is still staged: not published
    kept.keep = True  # a rollback failed: the next export finishes it
    unfinished.close()
    kept.close()
    assert unfinished.path.is_dir() and kept.path.is_dir()
    assert not held_by_another(unfinished.path / STAGING_LOCK)  # the lock is let go


def test_dead_staging_is_removed_live_and_foreign_folders_are_not(tmp_path: Path) -> None:
    dead = tmp_path / f"{TEMP_PREFIX}dead"
    (dead / "files").mkdir(parents=True)
    (dead / STAGING_LOCK).write_bytes(b"")
    (dead / "files" / "a.jsonl").write_text('{"a": 1')  # cut short by kill -9
    empty = tmp_path / f"{TEMP_PREFIX}empty"  # killed between mkdir and its lock file
    empty.mkdir()
    foreign = tmp_path / f"{TEMP_PREFIX}mine"  # a user's folder: no lock, not empty
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    linked = tmp_path / f"{TEMP_PREFIX}linked"  # a lock that is a symlink: not ducksets'
    linked.mkdir()
    (linked / STAGING_LOCK).symlink_to(tmp_path / "elsewhere")
    legacy = tmp_path / f"{TEMP_PREFIX}0123456789abcdef.json"  # an old version's temp manifest
    legacy.write_text("{}")
    other_file = tmp_path / f"{TEMP_PREFIX}notes.json"
    other_file.write_text("{}")
    live = tmp_path / f"{TEMP_PREFIX}live"
    live.mkdir()
    with (live / STAGING_LOCK).open("wb") as held, directory_lock(tmp_path):
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # its owner is alive
        assert remove_dead_staging(tmp_path) == sorted([dead, empty, legacy])
    assert live.is_dir() and foreign.is_dir() and linked.is_dir() and other_file.is_file()
    with directory_lock(tmp_path):
        staging = open_staging(tmp_path)  # removes dead staging first: now the live one too
    assert sorted(tmp_path.glob(f"{TEMP_PREFIX}*")) == sorted(
        [foreign, linked, other_file, staging.path]
    )
    staging.close()


def test_remove_staging_takes_the_lock_file_last_and_ignores_errors(tmp_path: Path) -> None:
    staging = tmp_path / f"{TEMP_PREFIX}gone"
    (staging / "old" / "deep").mkdir(parents=True)
    (staging / STAGING_LOCK).write_bytes(b"")
    (staging / "files").symlink_to(tmp_path)  # a symlink is unlinked, never followed
    remove_staging(staging)
    assert not staging.exists() and tmp_path.is_dir()
    remove_staging(staging)  # nothing there: no error


@pytest.mark.parametrize("kind", ["symlink", "directory", "fifo"])
def test_an_odd_directory_lock_is_one_export_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / LOCK_NAME
    if kind == "symlink":
        path.symlink_to(tmp_path / "target")
    elif kind == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)
    with pytest.raises(ExportError, match="not ducksets' lock file"), directory_lock(tmp_path):
        pass
    assert not (tmp_path / "target").exists()


def test_the_directory_lock_is_held_until_the_block_ends(tmp_path: Path) -> None:
    with directory_lock(tmp_path):
        assert held_by_another(tmp_path / LOCK_NAME)
    assert not held_by_another(tmp_path / LOCK_NAME)
