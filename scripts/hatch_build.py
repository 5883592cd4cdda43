"""Hatch build hook: put the whole pack, as one script, into the wheel.

The script is ``ducksets/ducksets.sql``, for ``duckdb my.db -c ".read ..."``
users who have the wheel but not the source; it holds every migration.
The pack itself, ``macros/`` with ``macros/migrations/``, is force-included
by pyproject.toml. It is written by the same code
that ``ducksets sql`` runs (``ducksets._pack_source``), loaded by path
because the package's dependencies are not installed at build time.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class PackScriptHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        spec = importlib.util.spec_from_file_location(
            "_pack_source", root / "python" / "ducksets" / "_pack_source.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        # dataclasses look their module up in sys.modules while the class is made.
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        finally:
            del sys.modules[spec.name]
        out_dir = Path(tempfile.mkdtemp(prefix="ducksets-build-"))
        script = out_dir / "ducksets.sql"
        script.write_text(module.default_script(root / "macros"), encoding="utf-8")
        build_data["force_include"][str(script)] = "ducksets/ducksets.sql"
