"""The manifest rules: ``MANIFEST`` and the files agree (DS006), file numbers are unique (DS010).

Standard library only; the names come from ``_pack_source.read_manifest``, the
parser the installer uses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ducksets._pack_source import MANIFEST_NAME, read_manifest
from ducksets.lint.diagnostic import Diagnostic, rule_error

_NUMBER = re.compile(r"^(?P<number>[0-9]+)_")


def manifest_names(directory: Path) -> tuple[list[str], list[Diagnostic]]:
    """The files to lint in install order, and the manifest problems (DS006, DS010)."""
    manifest = directory / MANIFEST_NAME
    present = sorted(p.name for p in directory.glob("*.sql"))
    if not manifest.is_file():
        missing = f"no {MANIFEST_NAME} in {directory}; list the .sql files in it"
        return present, [rule_error(manifest, "DS006", missing)]
    entries = _numbered(manifest, read_manifest(directory))
    diagnostics: list[Diagnostic] = []
    listed: list[str] = []
    for number, name in entries:
        problem = _entry_problem(directory, name, listed)
        if problem is not None:
            diagnostics.append(rule_error(manifest, "DS006", problem, number))
        if name not in listed:
            listed.append(name)
    for name in sorted(set(present) - set(listed)):
        unlisted = f"not listed in {MANIFEST_NAME}, so it is never installed"
        diagnostics.append(rule_error(directory / name, "DS006", unlisted))
    diagnostics.extend(_shared_numbers(manifest, entries))
    return listed, diagnostics


def _entry_problem(directory: Path, name: str, listed: Sequence[str]) -> str | None:
    if name in listed:
        return f"{name} is listed twice"
    if not (directory / name).is_file():
        return f"{name} is listed but does not exist; remove the line or add the file"
    return None


def _numbered(manifest: Path, names: Sequence[str]) -> list[tuple[int, str]]:
    """Each listed name with its 1-based line in ``manifest``, for the diagnostics."""
    lines = manifest.read_text(encoding="utf-8").splitlines()
    numbered, index = [], 0
    for name in names:
        while lines[index].strip() != name:
            index += 1
        index += 1
        numbered.append((index, name))
    return numbered


def _shared_numbers(manifest: Path, entries: Sequence[tuple[int, str]]) -> list[Diagnostic]:
    """DS010: a file whose number an earlier listed file already has."""
    first: dict[int, str] = {}
    diagnostics = []
    for line, name in entries:
        match = _NUMBER.match(name)
        if match is None:
            continue
        number = int(match.group("number"))
        owner = first.setdefault(number, name)
        if owner != name:
            problem = (
                f"{name} shares the number {match.group('number')} with {owner}; "
                "give it a number of its own (the numbers show the install order)"
            )
            diagnostics.append(rule_error(manifest, "DS010", problem, line))
    return diagnostics
