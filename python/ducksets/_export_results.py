"""What an export run returns: the files written and the datasets that failed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

from ducksets._html import html_table

ExportFormat = Literal["jsonl", "parquet"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "parquet")


@dataclass(frozen=True)
class ExportedPart:
    """One file of a dataset exported as a directory of Parquet files."""

    path: str
    """posix path relative to the dataset's directory, e.g. ``year=2024/data_0.parquet``"""
    rows: int
    bytes: int
    sha256: str | None
    mtime_ns: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The part's manifest entry (JSON-ready)."""
        return {
            "path": self.path,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "mtime_ns": self.mtime_ns,
        }


@dataclass(frozen=True)
class ExportedFile:
    """One dataset written to one file, or to a directory of Parquet files (``parts``)."""

    dataset_name: str
    table_key: str
    kind: str
    """``table`` or ``view``"""
    format: ExportFormat
    path: Path
    rows: int
    bytes: int
    sha256: str | None
    """hex SHA-256 of the file; ``None`` when exported with ``checksums=False``"""
    seconds: float
    columns: tuple[tuple[str, str], ...]
    """(name, DuckDB type) of each column, as the relation binds now"""
    mtime_ns: int | None = None
    """``st_mtime_ns`` of the file as written; the manifest uses it to spot later changes"""
    parts: tuple[ExportedPart, ...] = ()
    """The files of a partitioned or size-split export (``path`` is then their directory;
    ``rows`` and ``bytes`` are totals, ``sha256`` is ``None``); empty for a single file."""

    def to_dict(self) -> dict[str, Any]:
        """The file's manifest entry (JSON-ready); ``file`` is the bare file name.

        ``datapackage.json`` lists it as a resource (``ducksets._datapackage``).
        """
        entry: dict[str, Any] = {
            "name": self.dataset_name,
            "table_key": self.table_key,
            "kind": self.kind,
            "file": self.path.name,
            "format": self.format,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "mtime_ns": self.mtime_ns,
            "columns": [{"name": name, "type": type_} for name, type_ in self.columns],
        }
        if self.parts:
            entry["parts"] = [part.to_dict() for part in self.parts]
        return entry

    def __repr__(self) -> str:
        files = f", {len(self.parts)} files" if self.parts else ""
        return (
            f"<ExportedFile {self.dataset_name!r} -> {self.path}{files}: "
            f"{self.rows} rows, {self.bytes} bytes, {self.seconds:.2f}s>"
        )


@dataclass(frozen=True)
class ExportFailure:
    """One dataset that was not written, and why; no file of it was left behind.

    Also what planning yields for a dataset refused before any COPY (a file
    name that is not plain, or reserved).
    """

    dataset_name: str
    format: ExportFormat
    reason: str

    def __repr__(self) -> str:
        return f"<ExportFailure {self.dataset_name!r} ({self.format}): {self.reason}>"


ExportOutcome: TypeAlias = ExportedFile | ExportFailure
"""What ``progress`` receives once per dataset."""


@dataclass(frozen=True)
class ExportResult:
    """The files an export run wrote, the datasets it could not write, and its manifest."""

    written: tuple[ExportedFile, ...]
    failed: tuple[ExportFailure, ...]
    manifest: Path | None
    """``None`` when the run wrote no file (and so left any manifest as it was)."""

    @property
    def ok(self) -> bool:
        """True when every selected dataset was written."""
        return not self.failed

    def __repr__(self) -> str:
        manifest = "no manifest" if self.manifest is None else f"manifest {self.manifest}"
        lines = [
            f"<ExportResult: {len(self.written)} written, {len(self.failed)} failed; {manifest}"
        ]
        lines += [f"  {f.dataset_name}: {f.path.name} ({f.rows} rows)" for f in self.written]
        lines += [f"  {f.dataset_name}: FAILED {f.reason}" for f in self.failed]
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        columns = ("dataset", "format", "status", "file", "rows", "bytes", "reason")
        rows: list[tuple[object, ...]] = [
            (f.dataset_name, f.format, "written", f.path.name, f.rows, f.bytes, None)
            for f in self.written
        ]
        rows += [
            (f.dataset_name, f.format, "failed", None, None, None, f.reason) for f in self.failed
        ]
        caption = f"export: {len(self.written)} written, {len(self.failed)} failed"
        return html_table(columns, rows, caption=caption)
