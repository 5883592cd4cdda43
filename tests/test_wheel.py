"""The wheel carries the pack and the one-file script, so no checkout is needed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from ducksets import pack_files, pack_script, pack_version
from ducksets.pack import pack_steps

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_the_pack_and_the_script(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("ducksets-*.whl")
    assert wheel.name.startswith(f"ducksets-{pack_version()}-")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {"ducksets/py.typed", "ducksets/macros/MANIFEST"} <= names
        assert {f"ducksets/macros/{f.name}" for f in pack_files()} <= names
        migrations = {f"ducksets/macros/{s.name}" for s in pack_steps() if s.phase == "migration"}
        assert migrations and migrations <= names
        script = archive.read("ducksets/ducksets.sql").decode("utf-8")
    assert script == pack_script()
