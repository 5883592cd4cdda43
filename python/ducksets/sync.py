"""``sync_catalog``: register the tables and views that exist in some schemas."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from ducksets._args import require_connection, require_str
from ducksets._catalog_check import require_catalog
from ducksets._catalog_lock import write_catalog
from ducksets._names import SQL_ASCII_FOLD, fold_name
from ducksets.catalog import CatalogRow, catalog_row, write_rows
from ducksets.errors import (
    ArgumentTypeError,
    DucksetsError,
    InvalidArgumentError,
    first_line,
)
from ducksets.filenames import check_dataset_name
from ducksets.keys import TableKey
from ducksets.pack import PACK_SCHEMA
from ducksets.registry import (
    DatasetRegistry,
    key_or_none,
    read_registry,
)


@dataclass(frozen=True)
class SyncReport:
    """What ``sync_catalog`` did (or would do, with ``dry_run``): table keys by outcome."""

    added: tuple[str, ...]
    updated: tuple[str, ...]
    left: tuple[str, ...]
    dry_run: bool = False
    skipped: tuple[tuple[str, str], ...] = ()
    """``(table key, reason)`` for relations sync could not register; register them by hand."""

    def outcomes(self) -> list[tuple[str, str, str]]:
        """``(table key, outcome, detail)`` per relation: added, updated, left, then skipped."""
        done = (("added", self.added), ("updated", self.updated), ("left", self.left))
        rows = [(key, outcome, "") for outcome, keys in done for key in keys]
        return rows + [(key, "skipped", reason) for key, reason in self.skipped]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``ducksets sync --format json`` prints it)."""
        skipped = [{"relation": key, "reason": reason} for key, reason in self.skipped]
        return {**dataclasses.asdict(self), "skipped": skipped}


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
    CatalogConflictError
        Other transactions kept writing the catalog; nothing was written.
    """
    require_connection("con", con)
    _require_schema_names(schemas)
    require_catalog(con, pack_schema)  # once: the registry and the writes below trust it
    relations = _relations_in_schemas(con, schemas)
    plan = _sort_relations(relations, read_registry(con, pack_schema=pack_schema))
    if not dry_run and (plan[0] or plan[1]):
        # Planned again inside the write, on the catalog as it is once the
        # lock is held: a name another writer took since the read above is
        # then seen as taken (sync picks the other name or skips), not refused.
        plan = write_catalog(
            con, pack_schema, lambda: _plan_and_write(con, relations, pack_schema), subject="sync"
        )
    added, updated, left, skipped = plan
    return SyncReport(
        tuple(r.table_key for r in added),
        tuple(r.table_key for r in updated),
        tuple(left),
        dry_run,
        tuple(skipped),
    )


_Plan = tuple[list[CatalogRow], list[CatalogRow], list[str], list[tuple[str, str]]]


def _plan_and_write(
    con: duckdb.DuckDBPyConnection, relations: Sequence[tuple[str, str, bool]], pack_schema: str
) -> _Plan:
    """Sort ``relations`` against the catalog as the lock holder reads it, and write the plan."""
    plan = _sort_relations(relations, read_registry(con, pack_schema=pack_schema))
    added, updated, _, _ = plan
    if added or updated:
        write_rows(con, [*added, *updated], pack_schema)
    return plan


def _require_schema_names(schemas: object) -> None:
    if isinstance(schemas, str) or not isinstance(schemas, Sequence):
        wrong = f"{type(schemas).__name__} {schemas!r}"
        msg = f"schemas must be a list of schema names such as ['core'], not {wrong}"
        raise ArgumentTypeError(msg, parameter="schemas", value=schemas)
    for schema_name in schemas:
        require_str("schemas", schema_name, what="a schema name")


def _sort_relations(relations: Sequence[tuple[str, str, bool]], registry: DatasetRegistry) -> _Plan:
    """Relations by outcome: rows to add, rows to update, keys left, ``(key, reason)`` skipped."""
    registered = {
        key: d for d in registry.by_name.values() if (key := key_or_none(d.table_key)) is not None
    }
    taken = set(registry.by_name)
    added: list[CatalogRow] = []
    updated: list[CatalogRow] = []
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
            added.append(CatalogRow(str(key), name, is_view, None, None, None))
        elif known.is_view == is_view:
            left.append(known.table_key)
        else:  # only the kind changes; names, filenames and declared columns stay
            schema = None if is_view else known.schema
            updated.append(dataclasses.replace(catalog_row(known), is_view=is_view, schema=schema))
    return added, updated, left, skipped


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
