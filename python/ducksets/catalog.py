"""Writing the catalog: register, bootstrap and unregister datasets.

Writes are batched (one statement per table and kind for a whole set of
datasets), run in one transaction that holds the catalog's write lock, check
unique keys and names there (no constraints needed: DuckLake has none), and
retry write conflicts a bounded number of times.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import duckdb

from ducksets import _introspect
from ducksets._args import require_bool, require_connection, require_mapping
from ducksets._catalog_check import require_catalog
from ducksets._catalog_lock import write_catalog
from ducksets._names import fold_name
from ducksets.errors import (
    ArgumentTypeError,
    InvalidArgumentError,
    RelationMissingError,
)
from ducksets.filenames import check_dataset_name, check_filename
from ducksets.keys import TableKey, parse_table_key
from ducksets.pack import PACK_SCHEMA
from ducksets.registry import (
    Dataset,
    catalog_table,
    key_or_none,
    lookup_table_key,
)
from ducksets.schema import TableSchema
from ducksets.sqltext import quote_literal


@dataclass(frozen=True)
class CatalogRow:
    table_key: str
    name: str | None  # None: the key's last part, as the catalog spells the key
    is_view: bool
    jsonl_filename: str | None
    parquet_filename: str | None
    schema: TableSchema | None


def bootstrap_metadata_datasets(
    con: duckdb.DuckDBPyConnection,
    *,
    tables: Mapping[str, TableSchema],
    views: Iterable[str] = (),
    jsonl: Mapping[str, str] | None = None,
    parquet: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
    pack_schema: str = PACK_SCHEMA,
) -> tuple[str, ...]:
    """Register declared tables and views in the catalog: an idempotent, batched upsert.

    Parameters
    ----------
    con
        A connection whose database has the pack installed.
    tables
        Declared base tables by table key; their columns are stored in
        ``metadata.dataset_columns`` for ``catalog_drift``.
    views
        Table keys of views.
    jsonl, parquet
        Export filenames by table key (plain file names, no directories).
    names
        Dataset names by table key; default: the key's last part.
    pack_schema
        The schema the pack is installed in.

    Returns
    -------
    tuple[str, ...]
        The canonical table keys written.

    Raises
    ------
    InvalidTableKeyError, InvalidFilenameError
        A key is invalid, or a filename is not a plain file name.
    InvalidArgumentError
        Two keys name one relation, or a name would belong to two keys.
    ArgumentTypeError
        An argument has the wrong type.
    CatalogConflictError
        Other catalog writes kept running for 20 attempts or 10 s. In every case nothing
        is written.
    """
    require_connection("con", con)
    require_mapping("tables", tables, TableSchema, optional=False)
    require_mapping("jsonl", jsonl, str)
    require_mapping("parquet", parquet, str)
    require_mapping("names", names, str)
    if isinstance(views, str):
        msg = f"views must be a list of table keys, not the str {views!r}"
        raise ArgumentTypeError(msg, parameter="views", value=views)
    specs: list[tuple[str, bool, TableSchema | None]] = [
        *((k, False, s) for k, s in tables.items()),
        *((k, True, None) for k in views),
    ]
    rows = _declared_rows(specs, jsonl or {}, parquet or {}, names or {})
    return upsert_rows(con, rows, pack_schema)


def _declared_rows(
    specs: Sequence[tuple[str, bool, TableSchema | None]],
    jsonl: Mapping[str, str],
    parquet: Mapping[str, str],
    names: Mapping[str, str],
) -> list[CatalogRow]:
    """Catalog rows for declared ``(key, is_view, schema)``; mappings may spell keys otherwise."""
    by_key = {parse_table_key(k): k for k in (*jsonl, *parquet, *names)}
    rows = []
    for spelled, is_view, schema in specs:
        key = parse_table_key(spelled)
        original = by_key.get(key, spelled)
        rows.append(
            CatalogRow(
                table_key=str(key),
                name=names.get(original),
                is_view=is_view,
                jsonl_filename=check_filename(jsonl.get(original)),
                parquet_filename=check_filename(parquet.get(original)),
                schema=schema,
            )
        )
    return rows


def register_dataset(
    con: duckdb.DuckDBPyConnection,
    table_key: str,
    *,
    name: str | None = None,
    is_view: bool | None = None,
    schema: TableSchema | None = None,
    jsonl_filename: str | None = None,
    parquet_filename: str | None = None,
    pack_schema: str = PACK_SCHEMA,
    description: str | None = None,
) -> str:
    """Register (or update) one dataset; returns its canonical table key.

    ``is_view`` defaults to what the relation is in the database. A
    ``description`` becomes the relation's comment (``COMMENT ON TABLE|VIEW``),
    written in the catalog row's transaction; ``""`` removes the comment, and
    ``None`` (the default) leaves it as it is.

    Raises
    ------
    RelationMissingError
        ``is_view`` is not given, or a ``description`` is, and no table or
        view has that key.
    ArgumentTypeError
        An argument has the wrong type (``con``, ``name``, ``is_view``,
        ``schema``, a filename or ``description``).
    """
    require_connection("con", con)
    for parameter, value in (
        ("name", name),
        ("jsonl_filename", jsonl_filename),
        ("parquet_filename", parquet_filename),
        ("description", description),
    ):
        if value is not None and not isinstance(value, str):
            msg = f"{parameter} must be a str or None, not {type(value).__name__} {value!r}"
            raise ArgumentTypeError(msg, parameter=parameter, value=value)
    if is_view is not None:
        require_bool("is_view", is_view)
    if schema is not None and not isinstance(schema, TableSchema):
        msg = f"schema must be a TableSchema or None, not {type(schema).__name__} {schema!r}"
        raise ArgumentTypeError(msg, parameter="schema", value=schema)
    key = parse_table_key(table_key)
    if is_view is None:
        kind = _introspect.relation_kind(con, key)
        if kind is None:
            msg = f"no table or view {key}; create it first, or pass is_view="
            raise RelationMissingError(msg, table_key=str(key))
        is_view = kind == "view"
    row = CatalogRow(
        str(key),
        name,
        is_view,
        check_filename(jsonl_filename),
        check_filename(parquet_filename),
        schema,
    )
    if description is not None:
        return _register_described(con, row, key, pack_schema, description)
    return upsert_rows(con, [row], pack_schema)[0]


def unregister_dataset(
    con: duckdb.DuckDBPyConnection, name: str, *, pack_schema: str = PACK_SCHEMA
) -> str:
    """Remove the dataset called ``name`` and its declared columns; returns its table key.

    Raises
    ------
    UnknownDatasetError
        No dataset has that name (now, or once another writer's removal committed).
    CatalogConflictError
        Other transactions kept writing the catalog; nothing was removed.
    """
    # Checked first outside the write: arguments, a missing catalog, suggestions.
    lookup_table_key(con, name, pack_schema=pack_schema)

    def remove() -> str:
        table_key = lookup_table_key(con, name, pack_schema=pack_schema)
        for table in ("dataset_columns", "datasets"):
            con.execute(
                f"DELETE FROM {catalog_table(pack_schema, table)} WHERE table_key = ?", [table_key]
            )
        return table_key

    return write_catalog(con, pack_schema, remove, subject=f"dataset {name!r}")


def upsert_rows(
    con: duckdb.DuckDBPyConnection,
    rows: Sequence[CatalogRow],
    pack_schema: str,
    *,
    catalog_checked: bool = False,
) -> tuple[str, ...]:
    """Write ``rows`` and their columns (``catalog_checked``: the caller ran require_catalog)."""
    if not catalog_checked:
        require_catalog(con, pack_schema)
    if not rows:
        return ()  # no lock taken: an empty write changes nothing (a DuckLake snapshot would)
    keys = ", ".join(r.table_key for r in rows[:3]) + (", ..." if len(rows) > 3 else "")
    return write_catalog(
        con,
        pack_schema,
        lambda: write_rows(con, rows, pack_schema),
        subject=f"the catalog rows of {keys}",
    )


def write_rows(
    con: duckdb.DuckDBPyConnection, rows: Sequence[CatalogRow], pack_schema: str
) -> tuple[str, ...]:
    """``upsert_rows``' checks and statements, run by a ``write_catalog`` caller."""
    datasets = catalog_table(pack_schema, "datasets")
    # Read inside the write's transaction, after write_catalog's lock: no
    # other writer can add a row these checks miss before this commits.
    existing = con.execute(f"SELECT table_key, name FROM {datasets}").fetchall()
    checked = _reuse_spelling(rows, existing)
    _check_names(checked, existing)
    with_columns = [r for r in checked if r.schema is not None]
    present = {str(key) for key, _ in existing}
    tables = (datasets, catalog_table(pack_schema, "dataset_columns"))
    _write_catalog_rows(con, checked, present, with_columns, tables)
    return tuple(r.table_key for r in checked)


def _write_catalog_rows(
    con: duckdb.DuckDBPyConnection,
    rows: Sequence[CatalogRow],
    present: AbstractSet[str],
    with_columns: Sequence[CatalogRow],
    tables: tuple[str, str],
) -> None:
    """The write's statements, one per kind: UPDATE present keys, INSERT new ones.

    No ``ON CONFLICT`` (DuckLake has no keys to conflict on): the caller holds
    the lock and ``present`` is the keys as stored, read in this transaction.
    """
    datasets, columns = tables
    for chosen, statement in (
        ([r for r in rows if r.table_key in present], _UPDATE_DATASETS),
        ([r for r in rows if r.table_key not in present], _INSERT_DATASETS),
    ):
        if chosen:
            con.execute(
                statement.format(datasets=datasets),
                [
                    [r.table_key for r in chosen],
                    [r.name for r in chosen],
                    [r.is_view for r in chosen],
                    [r.jsonl_filename for r in chosen],
                    [r.parquet_filename for r in chosen],
                ],
            )
    con.execute(
        f"DELETE FROM {columns} WHERE table_key IN (SELECT CAST(unnest(?) AS VARCHAR))",
        [[r.table_key for r in rows]],
    )
    declared = [
        (r.table_key, c.name, ordinal, c.type, c.nullable, _pk_position(r.schema, c.name))
        for r in with_columns
        if r.schema is not None
        for ordinal, c in enumerate(r.schema.columns, start=1)
    ]
    if declared:
        con.execute(
            f"""
            INSERT INTO {columns}
                (table_key, column_name, ordinal, declared_type, is_nullable, pk_position)
            SELECT
                CAST(unnest(?) AS VARCHAR), CAST(unnest(?) AS VARCHAR),
                CAST(unnest(?) AS INTEGER), CAST(unnest(?) AS VARCHAR),
                CAST(unnest(?) AS BOOLEAN), CAST(unnest(?) AS INTEGER)
            """,
            [list(values) for values in zip(*declared, strict=True)],
        )


_NEW_ROWS = """
    SELECT
        CAST(unnest(?) AS VARCHAR) AS table_key, CAST(unnest(?) AS VARCHAR) AS name,
        CAST(unnest(?) AS BOOLEAN) AS is_view, CAST(unnest(?) AS VARCHAR) AS jsonl_filename,
        CAST(unnest(?) AS VARCHAR) AS parquet_filename
"""

_UPDATE_DATASETS = (
    """
    UPDATE {datasets} AS ducksets_d SET
        name = ducksets_new.name,
        is_view = ducksets_new.is_view,
        jsonl_filename = ducksets_new.jsonl_filename,
        parquet_filename = ducksets_new.parquet_filename
    FROM ("""
    + _NEW_ROWS
    + """) AS ducksets_new
    WHERE ducksets_d.table_key = ducksets_new.table_key
    """
)

_INSERT_DATASETS = (
    "INSERT INTO {datasets} (table_key, name, is_view, jsonl_filename, parquet_filename)"
    + _NEW_ROWS
)


def _pk_position(schema: TableSchema, column: str) -> int | None:
    # DuckDB folds ASCII case only: "Ä" and "ä" are two columns.
    folded = [fold_name(k) for k in schema.primary_key]
    return folded.index(fold_name(column)) + 1 if fold_name(column) in folded else None


def _reuse_spelling(
    rows: Sequence[CatalogRow], existing: Sequence[tuple[str, str]]
) -> list[CatalogRow]:
    """Rows whose key names an already registered relation take that row's spelling.

    Keys that differ only in case are one relation in DuckDB, so they must be
    one catalog row, and ``ON CONFLICT (table_key)`` compares text exactly.
    """
    spelled = {key: k for k, _ in existing if (key := key_or_none(k)) is not None}
    seen: dict[TableKey, CatalogRow] = {}
    for row in rows:
        key = parse_table_key(row.table_key)
        if key in seen:
            msg = f"table keys {seen[key].table_key!r} and {row.table_key!r} name the same relation"
            raise InvalidArgumentError(msg, parameter="tables", value=row.table_key)
        table_key = spelled.get(key, row.table_key)
        name = check_dataset_name(parse_table_key(table_key).name if row.name is None else row.name)
        seen[key] = dataclasses.replace(row, table_key=table_key, name=name)
    return list(seen.values())


def _check_names(rows: Sequence[CatalogRow], existing: Sequence[tuple[str, str]]) -> None:
    owner = {name: key for key, name in existing}
    batch_keys = {r.table_key for r in rows}
    claimed: dict[str, str] = {}
    for table_key, name in ((r.table_key, r.name) for r in rows if r.name is not None):
        other = claimed.get(name)
        if other is None:
            other = owner.get(name)
            if other is not None and other in batch_keys:
                other = None  # that key is re-registered in this batch; it may change its name
        if other is not None and other != table_key:
            msg = (
                f"dataset name {name!r} would belong to both {other!r} and "
                f"{table_key!r}; give one of them another name (names=...)"
            )
            raise InvalidArgumentError(msg, parameter="names", value=name)
        claimed[name] = table_key


def catalog_row(dataset: Dataset) -> CatalogRow:
    return CatalogRow(
        dataset.table_key,
        dataset.name,
        dataset.is_view,
        dataset.jsonl_filename,
        dataset.parquet_filename,
        dataset.schema,
    )


def _register_described(
    con: duckdb.DuckDBPyConnection,
    row: CatalogRow,
    key: TableKey,
    pack_schema: str,
    description: str,
) -> str:
    """``upsert_rows`` of one row, with the relation's comment set in the same transaction.

    The comment names the relation as resolved now (fully quoted, so a
    two-part key never reaches another database), by its real kind.
    """
    require_catalog(con, pack_schema)

    def upsert_and_comment() -> str:
        relation = _introspect.find_relation(con, key)
        if relation is None:
            msg = f"no table or view {key} to describe; create it first, or leave description out"
            raise RelationMissingError(msg, table_key=str(key))
        # The comment commits or rolls back with the row: one write_catalog transaction.
        table_key = write_rows(con, [row], pack_schema)[0]
        comment = quote_literal(description) if description else "NULL"
        con.execute(f"COMMENT ON {relation.kind.upper()} {relation.sql()} IS {comment}")
        return table_key

    return write_catalog(con, pack_schema, upsert_and_comment, subject=f"the catalog row of {key}")
