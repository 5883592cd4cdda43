"""Attaching a DuckLake, so that the pack can be installed into it and used there.

A DuckLake is attached (``ATTACH 'ducklake:<catalog>' AS lake``) and then used
like any database: ``install_macros`` sees its ``duckdb_databases()`` type and
installs the pack's keyless variant. Its extension is never downloaded here:
DuckDB loads an installed ``ducklake`` extension, or the wheel of
``duckdb-extension-ducklake`` (through ``duckdb-extensions``) built for exactly
the running DuckDB; without either, one ``MissingExtensionError`` names the
package to install. A catalog kept in SQLite or Postgres needs that extension too.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path

import duckdb

from ducksets._args import require_connection, require_str
from ducksets.errors import InvalidArgumentError, MissingExtensionError, first_line
from ducksets.sqltext import qualified_name, quote_literal

PREFIX = "ducklake:"
_CATALOG_EXTENSIONS = {"sqlite:": "sqlite", "postgres:": "postgres"}


def load_extension(con: duckdb.DuckDBPyConnection, extension: str) -> None:
    """Load an installed DuckDB extension, or its ``duckdb-extension-<name>`` wheel's.

    Raises
    ------
    MissingExtensionError
        Neither is there; names ``pip install duckdb-extension-<name>==<duckdb version>``
        and ``INSTALL <name>``.
    """
    # LOAD of an extension not installed would download it (autoinstall): ask first.
    row = con.execute(
        "SELECT loaded, installed FROM duckdb_extensions() "
        "WHERE extension_name = ? OR list_contains(aliases, ?)",
        [extension, extension],
    ).fetchone()
    if row is not None and row[0]:
        return
    cause = "not installed"
    if row is not None and row[1]:
        try:
            con.execute(f"LOAD {extension}")
            return
        except duckdb.Error as exc:
            cause = first_line(exc)
    try:
        module = importlib.import_module("duckdb_extensions")
        module.import_extension(extension, con=con)
        return
    except ImportError:
        pass  # the wheels are not installed: the error below says which
    except (duckdb.Error, OSError, ValueError) as exc:
        cause = f"{cause}; duckdb_extensions: {first_line(exc)}"
    version = duckdb.__version__
    package = f"duckdb-extension-{extension}"
    msg = (
        f"the DuckDB extension {extension!r} is not available to DuckDB {version} ({cause}); "
        f"pip install {package}=={version} duckdb-extensions=={version} (wheels built for "
        f"exactly this DuckDB), or run INSTALL {extension} once where DuckDB can download it"
    )
    raise MissingExtensionError(msg, extension=extension, package=f"{package}=={version}")


def prepare_ducklake_path(path: str, *, config: Mapping[str, str] | None = None) -> None:
    """Make ``duckdb.connect('ducklake:<catalog>')`` able to load the lake's extensions.

    DuckDB autoloads an installed extension when it opens a ``ducklake:`` path,
    but does not know the ``duckdb-extension-*`` wheels: loading them once into
    a scratch connection (with the same ``config``, such as its
    ``extension_directory``) installs them where DuckDB looks.

    Raises
    ------
    MissingExtensionError
        The ``ducklake`` (or ``sqlite``/``postgres``) extension is not available.
    """
    scratch = duckdb.connect(config=dict(config or {}))
    try:
        for extension in _extensions(path.removeprefix(PREFIX)):
            load_extension(scratch, extension)
    finally:
        scratch.close()


def _extensions(catalog: str) -> list[str]:
    """The extensions a lake with this catalog needs: ducklake, and its catalog's database's."""
    return ["ducklake"] + [e for p, e in _CATALOG_EXTENSIONS.items() if catalog.startswith(p)]


def attach_ducklake(
    con: duckdb.DuckDBPyConnection,
    catalog: str | os.PathLike[str],
    *,
    name: str = "lake",
    data_path: str | os.PathLike[str] | None = None,
    read_only: bool = False,
    use: bool = True,
) -> str:
    """Attach a DuckLake (loading its extensions) and, by default, ``USE`` it.

    Parameters
    ----------
    con
        An open connection.
    catalog
        The lake's catalog: a DuckDB file path, ``sqlite:<file>`` or
        ``postgres:<connection string>``, with or without the ``ducklake:`` prefix.
    name
        The name to attach it under.
    data_path
        Where its data files go; only needed when the lake is created.
    read_only
        Attach read-only.
    use
        ``USE`` it, so that ``install_macros(con)`` and the pack's macros find it.

    Returns
    -------
    str
        ``name``.

    Raises
    ------
    MissingExtensionError
        The ``ducklake`` (or ``sqlite``/``postgres``) extension is not available.
    InvalidArgumentError
        DuckDB refused the ATTACH (a name in use, a catalog that is not a lake, ...).
    """
    require_connection("con", con)
    require_str("name", name, what="a database name such as 'lake'")
    text = os.fspath(catalog) if isinstance(catalog, str | os.PathLike) else None
    if not text:
        msg = f"catalog must be a DuckLake catalog path or 'sqlite:<file>', not {catalog!r}"
        raise InvalidArgumentError(msg, parameter="catalog", value=catalog)
    text = text.removeprefix(PREFIX)
    for extension in _extensions(text):
        load_extension(con, extension)
    options = [] if data_path is None else [f"DATA_PATH {quote_literal(_directory(data_path))}"]
    if read_only:
        options.append("READ_ONLY")
    clause = f" ({', '.join(options)})" if options else ""
    statement = f"ATTACH {quote_literal(PREFIX + text)} AS {qualified_name(name)}{clause}"
    try:
        con.execute(statement)
        if use:
            con.execute(f"USE {qualified_name(name)}")
    except duckdb.Error as exc:
        msg = f"could not attach the DuckLake {text!r} as {name!r}: {first_line(exc)}"
        raise InvalidArgumentError(msg, parameter="catalog", value=catalog) from exc
    return name


def _directory(path: str | os.PathLike[str]) -> str:
    # DuckLake joins file names to DATA_PATH as text: it must end in a separator.
    text = os.fspath(path)
    return text if text.endswith(("/", os.sep)) or "://" in text else str(Path(text)) + "/"
