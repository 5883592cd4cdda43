"""Reading the SQL pack's files and joining them into one script.

Standard library only: the wheel's build hook loads this module by path to
write ``ducksets.sql`` into the wheel, before any dependency is installed.
"""

from __future__ import annotations

from pathlib import Path

MANIFEST_NAME = "MANIFEST"


def read_manifest(pack_dir: Path) -> tuple[str, ...]:
    """The pack's file names, in install order, as ``MANIFEST`` lists them."""
    lines = (pack_dir / MANIFEST_NAME).read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def join_script(sql_texts: tuple[str, ...]) -> str:
    """One script of the given file texts, run as one transaction.

    In the ``duckdb`` CLI a failing statement aborts the transaction, so the
    final ``COMMIT`` fails too and the database is left as it was.
    """
    body = "\n".join(text.rstrip("\n") + "\n" for text in sql_texts)
    return f"BEGIN TRANSACTION;\n\n{body}\nCOMMIT;\n"


def default_script(pack_dir: Path) -> str:
    """The whole pack for the default schema (``metadata``) as one script."""
    names = read_manifest(pack_dir)
    return join_script(tuple((pack_dir / name).read_text(encoding="utf-8") for name in names))
