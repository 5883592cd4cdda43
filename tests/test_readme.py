"""Every ``console``, ``sql`` and ``python`` block of the README runs, in order.

The blocks share one scratch directory: ``console`` lines starting with
``$ `` run in bash (with this environment's ``ducksets`` and ``duckdb`` first
on PATH), ``sql`` blocks run in the real ``duckdb`` binary against ``my.db``,
and ``python`` blocks run in one namespace. The quick start's ``bash`` blocks
are what CI itself runs, so they are not repeated here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```(console|sql|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)
BIN = Path(sys.executable).parent


def readme_blocks() -> list[tuple[int, str, str]]:
    text = README.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)) for m in BLOCK.finditer(text)
    ]


def test_the_readme_has_runnable_blocks_of_each_kind() -> None:
    kinds = {kind for _, kind, _ in readme_blocks()}
    assert kinds == {"console", "sql", "python"}


def test_every_readme_block_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    namespace: dict[str, object] = {"__name__": "readme"}
    for line, kind, body in readme_blocks():
        where = f"README.md:{line} ({kind})"
        if kind == "console":
            for command in (c[2:] for c in body.splitlines() if c.startswith("$ ")):
                done = subprocess.run(
                    ["bash", "-c", command], env=env, capture_output=True, text=True, check=False
                )
                assert done.returncode == 0, f"{where}: {command}\n{done.stderr}"
        elif kind == "sql":
            done = subprocess.run(
                [str(BIN / "duckdb"), "-no-init", "-bail", "my.db"],
                input=body,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0 and not done.stderr, f"{where}:\n{done.stderr}"
        else:
            exec(compile(body, where, "exec"), namespace)
