"""The README's "Scaling out" blocks run, in order, against a real DuckLake and S3.

They are fenced ``console scale`` and ``python scale`` (the main suite's
``tests/test_readme.py`` runs plain ``console``/``python`` blocks on DuckDB 2.x,
which cannot load the ducklake extension). As there, the blocks share one
scratch directory, ``console`` lines starting with ``$ `` run in bash with this
venv's ``ducksets`` first on PATH, and ``python`` blocks run in one namespace.
The bucket ``my-bucket`` is made on the loopback moto server the AWS variables
point at.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```(console|python) scale\n(.*?)^```", re.MULTILINE | re.DOTALL)
BIN = Path(sys.executable).parent


def scale_blocks() -> list[tuple[int, str, str]]:
    text = README.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)) for m in BLOCK.finditer(text)
    ]


def test_the_scaling_out_blocks_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_bucket: str, moto_s3: Any
) -> None:
    blocks = scale_blocks()
    assert {kind for _, kind, _ in blocks} == {"console", "python"}
    moto_s3.client().create_bucket(Bucket="my-bucket")
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    namespace: dict[str, object] = {"__name__": "readme"}
    for line, kind, body in blocks:
        where = f"README.md:{line} ({kind} scale)"
        if kind == "console":
            for command in (c[2:] for c in body.splitlines() if c.startswith("$ ")):
                done = subprocess.run(
                    ["bash", "-c", command], env=env, capture_output=True, text=True, check=False
                )
                assert done.returncode == 0, f"{where}: {command}\n{done.stdout}\n{done.stderr}"
        else:
            exec(compile(body, where, "exec"), namespace)
