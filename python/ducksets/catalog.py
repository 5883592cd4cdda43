"""The typed mirror of ``metadata.datasets``: datasets, the registry, and writing the catalog.

DuckDB's catalog is the source of truth. Python adds what only Python can know
(declared ``TableSchema``s and ``RowBinding``s) and writes the catalog in
batches: one statement per table for a whole set of datasets.
"""

from __future__ import annotations

import dataclasses
import difflib
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import duckdb

from ducksets import _introspect
from ducksets._args import require_bool, require_connection, require_str
from ducksets._html import html_table
from ducksets._names import SQL_ASCII_FOLD, bare_refused_keywords, fold_name
from ducksets._query import fetch_one
from ducksets._transaction import transaction
from ducksets.errors import (
    ArgumentTypeError,
    CatalogConflictError,
    CatalogMissingError,
    DucksetsError,
    InvalidArgumentError,
    RelationMissingError,
    UnknownDatasetError,
    first_line,
)
from ducksets.filenames import check_dataset_name, check_filename
from ducksets.keys import TableKey, parse_table_key
from ducksets.pack import PACK_SCHEMA
from ducksets.rowbinding import RowBinding
from ducksets.schema import Column, TableSchema
from ducksets.sqltext import qualified_name


@dataclass(frozen=True)
class Dataset:
    """One catalog row, with the Python-only schema and row binding layered on."""

    table_key: str
    name: str
    schema: TableSchema | None
    row_binding: RowBinding[Any] | None = None
    jsonl_filename: str | None = None
    parquet_filename: str | None = None
    is_view: bool = False

    @property
    def key(self) -> TableKey:
        """The parsed table key."""
        return parse_table_key(self.table_key)

    @property
    def kind(self) -> str:
        """``view`` or ``table``."""
        return "view" if self.is_view else "table"

    def __repr__(self) -> str:
        declared = "undeclared" if self.schema is None else f"{len(self.schema.columns)} columns"
        files = ", ".join(f for f in (self.jsonl_filename, self.parquet_filename) if f) or "-"
        return f"<Dataset {self.name!r}: {self.kind} {self.table_key}, {declared}; files: {files}>"

    def _repr_html_(self) -> str:
        rows = [
            ("name", self.name),
            ("table_key", self.table_key),
            ("kind", self.kind),
            ("jsonl_filename", self.jsonl_filename),
            ("parquet_filename", self.parquet_filename),
        ]
        if self.schema is not None:
            rows += [(f"column {c.name}", _column_text(c)) for c in self.schema.columns]
        return html_table(("field", "value"), rows, caption=f"dataset {self.name}")


@dataclass(frozen=True)
class DatasetRegistry:
    """All datasets of a catalog, by name and by table key, with export filenames."""

    by_name: Mapping[str, Dataset]
    by_table_key: Mapping[str, Dataset]
    jsonl_datasets: Mapping[str, str]
    """table_key -> JSONL filename, for datasets that have one."""
    parquet_datasets: Mapping[str, str]
    """table_key -> Parquet filename, for datasets that have one."""
    _by_key: Mapping[TableKey, Dataset] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_datasets(cls, datasets: Iterable[Dataset]) -> DatasetRegistry:
        """Index datasets by name and key, and collect their filenames."""
        ordered = sorted(datasets, key=lambda d: d.table_key)
        return cls(
            by_name=MappingProxyType({d.name: d for d in ordered}),
            by_table_key=MappingProxyType({d.table_key: d for d in ordered}),
            jsonl_datasets=MappingProxyType(
                {d.table_key: d.jsonl_filename for d in ordered if d.jsonl_filename}
            ),
            parquet_datasets=MappingProxyType(
                {d.table_key: d.parquet_filename for d in ordered if d.parquet_filename}
            ),
            _by_key=MappingProxyType(
                {key: d for d in ordered if (key := key_or_none(d.table_key)) is not None}
            ),
        )

    @property
    def all_datasets(self) -> tuple[str, ...]:
        """Every dataset name, sorted."""
        return tuple(sorted(self.by_name))

    def __repr__(self) -> str:
        views = sum(d.is_view for d in self.by_name.values())
        tables = len(self.by_name) - views
        return f"<DatasetRegistry: {tables} tables, {views} views>"

    def _repr_html_(self) -> str:
        rows = (
            (d.name, d.table_key, d.kind, d.jsonl_filename, d.parquet_filename)
            for d in sorted(self.by_name.values(), key=lambda d: d.name)
        )
        columns = ("name", "table_key", "kind", "jsonl_filename", "parquet_filename")
        return html_table(columns, rows, caption=repr(self).strip("<>"))

    def dataset_for_name(self, name: str) -> Dataset:
        """The dataset called ``name``; ``UnknownDatasetError`` suggests close names."""
        dataset = self.by_name.get(name)
        if dataset is None:
            raise UnknownDatasetError(unknown_dataset_message(name, self.by_name))
        return dataset

    def dataset_for_table(self, table_key: str | TableKey) -> Dataset:
        """The dataset of a table key (compared as DuckDB does, ignoring case)."""
        key = table_key if isinstance(table_key, TableKey) else parse_table_key(table_key)
        dataset = self._by_key.get(key)
        if dataset is None:
            known = [str(k) for k in self._by_key]
            raise UnknownDatasetError(unknown_dataset_message(str(key), known, "table key"))
        return dataset

    def resolve_table_key(self, name: str) -> str:
        """The table key of the dataset called ``name``."""
        return self.dataset_for_name(name).table_key


def _column_text(column: Column) -> str:
    return column.type + ("" if column.nullable else " NOT NULL")


def unknown_dataset_message(name: str, known: Iterable[str], what: str = "dataset") -> str:
    """``no dataset 'x'; did you mean 'y'?`` (or a hint where the names come from)."""
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    else:
        hint = "list them with: ducksets datasets DB (or FROM metadata.datasets)"
    return f"no {what} {name!r}; {hint}"


def catalog_table(pack_schema: str, table: str) -> str:
    """The quoted name of a pack table (``metadata.datasets``) in the current database."""
    return qualified_name(pack_schema, table)


def require_catalog(con: duckdb.DuckDBPyConnection, pack_schema: str = PACK_SCHEMA) -> None:
    """Raise unless the pack's catalog tables exist with the pack's shape (one query).

    Raises
    ------
    CatalogMissingError
        ``datasets`` or ``dataset_columns`` is missing.
    CatalogShapeError
        One is a view or has an ALTERed, dropped or renamed column: read as it
        is, ``'false'`` would count as true or a query would fail to bind.
    """
    # integrity imports lint (sqlglot rules); import it when a catalog is read.
    from ducksets.errors import CatalogShapeError
    from ducksets.integrity import repair_command, table_problems

    require_connection("con", con)
    require_str("pack_schema", pack_schema, what="a schema name")
    catalog = {qualified_name(pack_schema, t) for t in ("datasets", "dataset_columns")}
    problems = [p for p in table_problems(con, pack_schema=pack_schema) if p.obj in catalog]
    if any(p.missing for p in problems):
        msg = (
            f"no ducksets catalog in schema {pack_schema!r} (or an old pack without "
            f"dataset_columns); run install_macros(con) or: {repair_command(con)}"
        )
        raise CatalogMissingError(msg)
    if problems:
        raise CatalogShapeError(problems[0].text, table=problems[0].obj)


def load_dataset_registry(
    con: duckdb.DuckDBPyConnection,
    *,
    schemas: Mapping[str, TableSchema] | None = None,
    row_bindings: Mapping[str, RowBinding[Any]] | None = None,
    pack_schema: str = PACK_SCHEMA,
) -> DatasetRegistry:
    """Read the catalog into a ``DatasetRegistry``, in one query.

    Parameters
    ----------
    con
        A connection whose database has the pack installed.
    schemas
        Declared table schemas by table key; where none is given, the columns
        declared in ``metadata.dataset_columns`` are used. A base table with
        neither gets ``schema=None``: drift, not a crash.
    row_bindings
        Row bindings by table key.
    pack_schema
        The schema the pack is installed in.

    Raises
    ------
    CatalogMissingError
        The pack is not installed.
    ArgumentTypeError
        ``con`` is not a connection, or ``schemas``/``row_bindings`` not mappings.
    """
    require_connection("con", con)
    _require_mapping("schemas", schemas, TableSchema)
    _require_mapping("row_bindings", row_bindings, RowBinding)
    require_catalog(con, pack_schema)
    declared = {parse_table_key(k): s for k, s in (schemas or {}).items()}
    bindings = {parse_table_key(k): b for k, b in (row_bindings or {}).items()}
    rows = con.execute(
        f"""
        SELECT
            d.table_key, d.name, d.is_view, d.jsonl_filename, d.parquet_filename,
            list(
                struct_pack(name := c.column_name, type := c.declared_type,
                            nullable := c.is_nullable, pk := c.pk_position)
                ORDER BY c.ordinal
            ) FILTER (WHERE c.column_name IS NOT NULL)
        FROM {catalog_table(pack_schema, "datasets")} AS d
        LEFT JOIN {catalog_table(pack_schema, "dataset_columns")} AS c
            ON c.table_key = d.table_key
        GROUP BY ALL
        ORDER BY d.table_key
        """
    ).fetchall()
    datasets = []
    for table_key, name, is_view, jsonl, parquet, stored_columns in rows:
        # A row with an invalid key (written by SQL) stays visible: drift reports it.
        key = key_or_none(table_key)
        python_schema = declared.get(key) if key is not None else None
        schema = None if is_view else python_schema or _stored_schema(stored_columns)
        binding = bindings.get(key) if key is not None else None
        datasets.append(Dataset(table_key, name, schema, binding, jsonl, parquet, bool(is_view)))
    return DatasetRegistry.from_datasets(datasets)


def _stored_schema(stored: list[dict[str, Any]] | None) -> TableSchema | None:
    if not stored:
        return None
    columns = tuple(Column(c["name"], c["type"], bool(c["nullable"])) for c in stored)
    in_key = sorted((c["pk"], c["name"]) for c in stored if c["pk"] is not None)
    return TableSchema(columns, tuple(name for _, name in in_key))


@dataclass(frozen=True)
class _CatalogRow:
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
    DucksetsError
        Two keys would get the same name, a name belongs to another key, a
        filename is not a plain file name, or a key is invalid; nothing is written.
    """
    require_connection("con", con)
    _require_mapping("tables", tables, TableSchema, optional=False)
    _require_mapping("jsonl", jsonl, str)
    _require_mapping("parquet", parquet, str)
    _require_mapping("names", names, str)
    if isinstance(views, str):
        msg = f"views must be a list of table keys, not the str {views!r}"
        raise ArgumentTypeError(msg, parameter="views", value=views)
    bare_refused_keywords(con)  # read DuckDB's keywords through this connection, once
    jsonl, parquet, names = jsonl or {}, parquet or {}, names or {}
    specs: list[tuple[str, bool, TableSchema | None]] = [
        *((k, False, s) for k, s in tables.items()),
        *((k, True, None) for k in views),
    ]
    by_key = {parse_table_key(k): k for k in (*jsonl, *parquet, *names)}
    rows = []
    for spelled, is_view, schema in specs:
        key = parse_table_key(spelled)
        original = by_key.get(key, spelled)
        rows.append(
            _CatalogRow(
                table_key=str(key),
                name=names.get(original),
                is_view=is_view,
                jsonl_filename=check_filename(jsonl.get(original)),
                parquet_filename=check_filename(parquet.get(original)),
                schema=schema,
            )
        )
    return _upsert(con, rows, pack_schema)


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
) -> str:
    """Register (or update) one dataset; returns its canonical table key.

    ``is_view`` defaults to what the relation is in the database.

    Raises
    ------
    RelationMissingError
        ``is_view`` is not given and no table or view has that key.
    ArgumentTypeError
        An argument has the wrong type (``con``, ``name``, ``is_view``,
        ``schema`` or a filename).
    """
    require_connection("con", con)
    for parameter, value in (
        ("name", name),
        ("jsonl_filename", jsonl_filename),
        ("parquet_filename", parquet_filename),
    ):
        if value is not None and not isinstance(value, str):
            msg = f"{parameter} must be a str or None, not {type(value).__name__} {value!r}"
            raise ArgumentTypeError(msg, parameter=parameter, value=value)
    if is_view is not None:
        require_bool("is_view", is_view)
    if schema is not None and not isinstance(schema, TableSchema):
        msg = f"schema must be a TableSchema or None, not {type(schema).__name__} {schema!r}"
        raise ArgumentTypeError(msg, parameter="schema", value=schema)
    bare_refused_keywords(con)  # read DuckDB's keywords through this connection, once
    key = parse_table_key(table_key)
    if is_view is None:
        kind = relation_kind(con, key)
        if kind is None:
            msg = f"no table or view {key}; create it first, or pass is_view="
            raise RelationMissingError(msg, table_key=str(key))
        is_view = kind == "view"
    row = _CatalogRow(
        str(key),
        name,
        is_view,
        check_filename(jsonl_filename),
        check_filename(parquet_filename),
        schema,
    )
    return _upsert(con, [row], pack_schema)[0]


def lookup_table_key(
    con: duckdb.DuckDBPyConnection, name: str, *, pack_schema: str = PACK_SCHEMA
) -> str:
    """The table key of the dataset called ``name``, read from the catalog as it is now.

    One query on the catalog's unique index of names, so a dataset registered
    by another connection a moment ago is found.

    Raises
    ------
    UnknownDatasetError
        No dataset has that name; the message suggests close names.
    ArgumentTypeError, InvalidArgumentError
        ``con`` is not a connection, or ``name`` is not a string or is empty.
    CatalogMissingError
        The pack is not installed.
    """
    require_connection("con", con)
    require_str("name", name, what="a dataset name")
    require_str("pack_schema", pack_schema, what="a schema name")
    datasets = catalog_table(pack_schema, "datasets")
    try:
        row = fetch_one(con, f"SELECT table_key FROM {datasets} WHERE name = ?", [name])
    except duckdb.CatalogException as exc:
        # The only object named here is the catalog table (the caller's
        # transaction, if any, is aborted now, so no second query).
        msg = (
            f"no ducksets catalog in schema {pack_schema!r}; "
            "run install_macros(con) or: ducksets install DB"
        )
        raise CatalogMissingError(msg) from exc
    if row is None:
        known = [r[0] for r in con.execute(f"SELECT name FROM {datasets}").fetchall()]
        close = tuple(difflib.get_close_matches(name, known, n=3, cutoff=0.6))
        message = unknown_dataset_message(name, known)
        raise UnknownDatasetError(message, name=name, suggestions=close)
    return str(row[0])


def unregister_dataset(
    con: duckdb.DuckDBPyConnection, name: str, *, pack_schema: str = PACK_SCHEMA
) -> str:
    """Remove the dataset called ``name`` and its declared columns; returns its table key."""
    table_key = lookup_table_key(con, name, pack_schema=pack_schema)
    with transaction(con, "unregister_dataset"):
        for table in ("dataset_columns", "datasets"):
            con.execute(
                f"DELETE FROM {catalog_table(pack_schema, table)} WHERE table_key = ?", [table_key]
            )
    return table_key


def relation_kind(con: duckdb.DuckDBPyConnection, key: TableKey) -> str | None:
    """``table``, ``view``, or ``None`` when no such relation exists (DuckDB's name rules)."""
    return _introspect.relation_kind(con, key)


def _upsert(
    con: duckdb.DuckDBPyConnection, rows: Sequence[_CatalogRow], pack_schema: str
) -> tuple[str, ...]:
    require_catalog(con, pack_schema)
    datasets = catalog_table(pack_schema, "datasets")
    existing = con.execute(f"SELECT table_key, name FROM {datasets}").fetchall()
    rows = _reuse_spelling(rows, existing)
    _check_names(rows, existing)
    with_columns = [r for r in rows if r.schema is not None]
    columns = catalog_table(pack_schema, "dataset_columns")
    # Concurrent writers of the same keys conflict in DuckDB's optimistic
    # concurrency control; the loser's transaction is rolled back whole, so
    # running it again is safe. A bounded, jittered retry absorbs the usual
    # burst; a conflict that outlasts it is a typed error saying to retry.
    for attempt in range(1, _UPSERT_ATTEMPTS + 1):
        try:
            with transaction(con, "writing the catalog"):
                _write_catalog_rows(con, rows, with_columns, datasets, columns)
            break
        except (duckdb.TransactionException, duckdb.ConstraintException) as exc:
            if not _is_write_conflict(exc):
                raise
            if attempt == _UPSERT_ATTEMPTS:
                keys = ", ".join(r.table_key for r in rows[:3])
                keys += ", ..." if len(rows) > 3 else ""
                msg = (
                    f"another transaction wrote the catalog rows of {keys} at the same time "
                    f"({_UPSERT_ATTEMPTS} attempts); nothing was written by this call; retry it"
                )
                raise CatalogConflictError(msg) from exc
            time.sleep(random.uniform(0, min(0.1, 0.005 * 2**attempt)))
    return tuple(r.table_key for r in rows)


_UPSERT_ATTEMPTS = 10
_CONFLICT_MARKERS = ("conflict", "duplicate key", "constraint violation")


def _is_write_conflict(exc: duckdb.Error) -> bool:
    """True for errors a concurrent writer of the same rows causes (not for bad data)."""
    text = str(exc).lower()
    return any(marker in text for marker in _CONFLICT_MARKERS)


def _write_catalog_rows(
    con: duckdb.DuckDBPyConnection,
    rows: Sequence[_CatalogRow],
    with_columns: Sequence[_CatalogRow],
    datasets: str,
    columns: str,
) -> None:
    """The upsert's statements; the caller holds the transaction."""
    con.execute(
        f"""
        INSERT INTO {datasets} (table_key, name, is_view, jsonl_filename, parquet_filename)
        SELECT
            CAST(unnest(?) AS VARCHAR), CAST(unnest(?) AS VARCHAR), CAST(unnest(?) AS BOOLEAN),
            CAST(unnest(?) AS VARCHAR), CAST(unnest(?) AS VARCHAR)
        ON CONFLICT (table_key) DO UPDATE SET
            name = excluded.name,
            is_view = excluded.is_view,
            jsonl_filename = excluded.jsonl_filename,
            parquet_filename = excluded.parquet_filename
        """,
        [
            [r.table_key for r in rows],
            [r.name for r in rows],
            [r.is_view for r in rows],
            [r.jsonl_filename for r in rows],
            [r.parquet_filename for r in rows],
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


def _pk_position(schema: TableSchema, column: str) -> int | None:
    # DuckDB folds ASCII case only: "Ä" and "ä" are two columns.
    folded = [fold_name(k) for k in schema.primary_key]
    return folded.index(fold_name(column)) + 1 if fold_name(column) in folded else None


def _reuse_spelling(
    rows: Sequence[_CatalogRow], existing: Sequence[tuple[str, str]]
) -> list[_CatalogRow]:
    """Rows whose key names an already registered relation take that row's spelling.

    Keys that differ only in case are one relation in DuckDB, so they must be
    one catalog row, and ``ON CONFLICT (table_key)`` compares text exactly.
    """
    spelled = {key: k for k, _ in existing if (key := key_or_none(k)) is not None}
    seen: dict[TableKey, _CatalogRow] = {}
    for row in rows:
        key = parse_table_key(row.table_key)
        if key in seen:
            msg = f"table keys {seen[key].table_key!r} and {row.table_key!r} name the same relation"
            raise InvalidArgumentError(msg, parameter="tables", value=row.table_key)
        table_key = spelled.get(key, row.table_key)
        name = check_dataset_name(parse_table_key(table_key).name if row.name is None else row.name)
        seen[key] = dataclasses.replace(row, table_key=table_key, name=name)
    return list(seen.values())


def _check_names(rows: Sequence[_CatalogRow], existing: Sequence[tuple[str, str]]) -> None:
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


def key_or_none(table_key: str) -> TableKey | None:
    """The parsed key, or ``None`` for a key that does not parse (a catalog row written by SQL)."""
    try:
        return parse_table_key(table_key)
    except DucksetsError:
        return None


@dataclass(frozen=True)
class SyncReport:
    """What ``sync_catalog`` did (or would do, with ``dry_run``): table keys by outcome."""

    added: tuple[str, ...]
    updated: tuple[str, ...]
    left: tuple[str, ...]
    dry_run: bool = False
    skipped: tuple[tuple[str, str], ...] = ()
    """``(table key, reason)`` for relations sync could not register; register them by hand."""


def sync_catalog(
    con: duckdb.DuckDBPyConnection,
    schemas: Sequence[str],
    *,
    dry_run: bool = False,
    pack_schema: str = PACK_SCHEMA,
) -> SyncReport:
    """Register every table and view that exists in ``schemas`` (of the current database).

    New relations are added with their last key part as name (prefixed with
    ``<schema>_`` where that name is taken); registered ones whose kind is wrong
    are updated; the rest are left as they are. Pack objects are ignored. A
    relation that cannot be registered under either name (both taken, or not
    usable as a file name) is reported in ``skipped`` and the others still are
    registered. Schema names compare as DuckDB compares names.

    Raises
    ------
    InvalidArgumentError
        A schema does not exist.
    ArgumentTypeError
        ``schemas`` is not a list of names (a single str is refused too).
    """
    require_connection("con", con)
    if isinstance(schemas, str) or not isinstance(schemas, Sequence):
        wrong = f"{type(schemas).__name__} {schemas!r}"
        msg = f"schemas must be a list of schema names such as ['core'], not {wrong}"
        raise ArgumentTypeError(msg, parameter="schemas", value=schemas)
    for schema_name in schemas:
        require_str("schemas", schema_name, what="a schema name")
    require_catalog(con, pack_schema)
    bare_refused_keywords(con)  # read DuckDB's keywords through this connection, once
    relations = _relations_in_schemas(con, schemas)
    registry = load_dataset_registry(con, pack_schema=pack_schema)
    registered = {
        key: d for d in registry.by_name.values() if (key := key_or_none(d.table_key)) is not None
    }
    taken = set(registry.by_name)
    added: list[_CatalogRow] = []
    updated: list[_CatalogRow] = []
    left: list[str] = []
    skipped: list[tuple[str, str]] = []
    for schema_name, relation_name, is_view in relations:
        key = TableKey(None, schema_name, relation_name)
        known = registered.get(key)
        if known is None:
            name, problem = _sync_name(key, taken)
            if problem is not None:
                skipped.append((str(key), problem))
                continue
            taken.add(name)
            added.append(_CatalogRow(str(key), name, is_view, None, None, None))
        elif known.is_view == is_view:
            left.append(known.table_key)
        else:  # only the kind changes; names, filenames and declared columns stay
            schema = None if is_view else known.schema
            updated.append(dataclasses.replace(_catalog_row(known), is_view=is_view, schema=schema))
    if not dry_run and (added or updated):
        _upsert(con, [*added, *updated], pack_schema)
    return SyncReport(
        tuple(r.table_key for r in added),
        tuple(r.table_key for r in updated),
        tuple(left),
        dry_run,
        tuple(skipped),
    )


def _relations_in_schemas(
    con: duckdb.DuckDBPyConnection, schemas: Sequence[str]
) -> list[tuple[str, str, bool]]:
    """``(schema, name, is_view)`` of every non-pack relation in ``schemas``, which must exist."""
    present = [
        str(r[0])
        for r in con.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()"
        ).fetchall()
    ]
    folded = {fold_name(p) for p in present}
    missing = [s for s in schemas if fold_name(s) not in folded]
    if missing:
        msg = f"no schema {missing[0]!r} in the current database; schemas: {sorted(present)}"
        raise InvalidArgumentError(msg, parameter="schemas", value=missing[0])
    fold = SQL_ASCII_FOLD.format("schema_name")
    rows = con.execute(
        f"""
        SELECT schema_name, table_name, FALSE FROM duckdb_tables()
        WHERE database_name = current_database() AND {fold} IN (SELECT unnest(?))
            AND coalesce(comment, '') NOT LIKE 'ducksets:%'
        UNION ALL
        SELECT schema_name, view_name, TRUE FROM duckdb_views()
        WHERE database_name = current_database() AND {fold} IN (SELECT unnest(?))
            AND NOT internal AND coalesce(comment, '') NOT LIKE 'ducksets:%'
        ORDER BY ALL
        """,
        [[fold_name(s) for s in schemas]] * 2,
    ).fetchall()
    return [(str(s), str(n), bool(v)) for s, n, v in rows]


def _sync_name(key: TableKey, taken: set[str]) -> tuple[str, str | None]:
    """The dataset name sync gives ``key``, or a reason it cannot give one."""
    by_hand = f"register it with a name: register_dataset(con, {str(key)!r}, name=...)"
    candidates = (key.name, f"{key.schema}_{key.name}")
    free = [c for c in candidates if c not in taken]
    if not free:
        return "", f"dataset names {candidates[0]!r} and {candidates[1]!r} are taken; {by_hand}"
    try:
        return check_dataset_name(free[0]), None
    except DucksetsError as exc:
        return "", f"{first_line(exc)}; {by_hand}"


def _require_mapping(
    parameter: str, value: object, value_type: type, *, optional: bool = True
) -> None:
    """Raise ``ArgumentTypeError`` unless ``value`` maps str keys to ``value_type`` values."""
    if value is None and optional:
        return
    if not isinstance(value, Mapping):
        msg = f"{parameter} must be a mapping of table keys, not {type(value).__name__} {value!r}"
        raise ArgumentTypeError(msg, parameter=parameter, value=value)
    for key, item in value.items():
        if not isinstance(item, value_type):
            wrong = f"{type(item).__name__} {item!r}"
            msg = f"{parameter}[{key!r}] must be a {value_type.__name__}, not {wrong}"
            raise ArgumentTypeError(msg, parameter=parameter, value=value)


def _catalog_row(dataset: Dataset) -> _CatalogRow:
    return _CatalogRow(
        dataset.table_key,
        dataset.name,
        dataset.is_view,
        dataset.jsonl_filename,
        dataset.parquet_filename,
        dataset.schema,
    )
