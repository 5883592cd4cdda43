"""The journaled publish of a staging directory and its rollback (``ducksets._publishing``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ducksets._publishing import fs_fold, publish, rollback
from ducksets._staging import Staging, directory_lock, open_staging
from ducksets.errors import ExportError
from ducksets.filenames import LEGACY_MANIFEST_NAME, MANIFEST_NAME


def contents(directory: Path) -> dict[str, str]:
    """Every regular file directly in ``directory`` (not the lock, not staging): name -> text."""
    return {
        p.name: p.read_text()
        for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".ducksets")
    }


@pytest.fixture
def staging(tmp_path: Path) -> Iterator[Staging]:
    """An output directory holding an earlier export, and a staged run replacing it."""
    (tmp_path / "a.jsonl").write_text("old a\n")
    (tmp_path / MANIFEST_NAME).write_text("old package\n")
    (tmp_path / LEGACY_MANIFEST_NAME).write_text("legacy\n")
    with directory_lock(tmp_path):
        staged = open_staging(tmp_path)
        (staged.files / "a.jsonl").write_text("new a\n")
        (staged.files / "b.jsonl").write_text("new b\n")
        staged.manifest.write_text("new package\n")
        yield staged
        staged.close()


def failing_replace(monkeypatch: pytest.MonkeyPatch, source: Path) -> None:
    """Make the rename of ``source`` fail, as a full or read-only disk would."""
    replace = os.replace

    def fake(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if os.fspath(src) == os.fspath(source):
            raise OSError(28, "No space left on device", os.fspath(dst))
        replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", fake)


def test_publish_moves_the_files_then_the_manifest(tmp_path: Path, staging: Staging) -> None:
    publish(tmp_path, staging, ["a.jsonl", "b.jsonl"], remove=[LEGACY_MANIFEST_NAME])
    assert contents(tmp_path) == {
        "a.jsonl": "new a\n",
        "b.jsonl": "new b\n",
        MANIFEST_NAME: "new package\n",
    }
    # The old files are kept aside until the staging directory goes; the journal says why.
    assert contents(staging.path / "old") == {
        "a.jsonl": "old a\n",
        MANIFEST_NAME: "old package\n",
        LEGACY_MANIFEST_NAME: "legacy\n",
    }
    journal = json.loads((staging.path / "publish.json").read_text())
    assert journal == {
        "publish": ["a.jsonl", "b.jsonl", MANIFEST_NAME],
        "remove": [LEGACY_MANIFEST_NAME],
        "dirs": [],
    }
    assert rollback(tmp_path, staging.path)  # published to the end: nothing to undo
    assert contents(tmp_path)["a.jsonl"] == "new a\n"


def test_a_publish_that_fails_midway_changes_nothing(
    tmp_path: Path, staging: Staging, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = contents(tmp_path)
    failing_replace(monkeypatch, staging.files / "b.jsonl")  # after a.jsonl was replaced
    with pytest.raises(ExportError, match="No space left on device; nothing was changed"):
        publish(tmp_path, staging, ["a.jsonl", "b.jsonl"], remove=[LEGACY_MANIFEST_NAME])
    assert contents(tmp_path) == before
    assert not (staging.path / "publish.json").exists()


def test_a_directory_target_is_renamed_aside_and_back(
    tmp_path: Path, staging: Staging, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "parts").write_text("a file in the way\n")
    (staging.files / "parts").mkdir()
    (staging.files / "parts" / "0.parquet").write_text("part\n")
    failing_replace(monkeypatch, staging.manifest)  # every data file is in place by then
    with pytest.raises(ExportError, match="nothing was changed"):
        publish(tmp_path, staging, ["a.jsonl", "parts"])
    assert (tmp_path / "parts").read_text() == "a file in the way\n"
    assert (tmp_path / "a.jsonl").read_text() == "old a\n"


def test_a_directory_target_is_journaled_as_one(tmp_path: Path, staging: Staging) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "old.parquet").write_text("old part\n")
    (staging.files / "parts").mkdir()
    (staging.files / "parts" / "0.parquet").write_text("part\n")
    publish(tmp_path, staging, ["a.jsonl", "parts"])
    assert [p.name for p in (tmp_path / "parts").iterdir()] == ["0.parquet"]
    assert (staging.path / "old" / "parts" / "old.parquet").read_text() == "old part\n"
    journal = json.loads((staging.path / "publish.json").read_text())
    assert journal["dirs"] == ["parts"]


@pytest.mark.parametrize("name", ["../victim.txt", "sub/x", ".."])
def test_a_journal_naming_a_path_outside_is_never_acted_upon(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    staged = out / ".ducksets-tmp-forged"
    for sub in ("files", "old"):
        (staged / sub).mkdir(parents=True)
    (staged / "publish.json").write_text(json.dumps({"publish": [name, MANIFEST_NAME]}))
    (staged / MANIFEST_NAME).write_text("{}")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    assert rollback(out, staged) is False
    assert victim.read_text() == "keep me\n"


def test_a_staging_directory_without_a_journal_needs_no_rollback(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    assert rollback(tmp_path.parent, tmp_path) is True


def test_fs_fold_compares_names_as_a_case_insensitive_file_system_may() -> None:
    assert fs_fold("Straße.JSONL") == fs_fold("STRASSE.jsonl")
    assert fs_fold("caf\u00e9.parquet") == fs_fold("CAFE\u0301.parquet")
    assert fs_fold("a.jsonl") != fs_fold("b.jsonl")
