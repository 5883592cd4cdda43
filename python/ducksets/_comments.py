"""The comments (``COMMENT ON``) of tables, views and their columns: the datasets' descriptions.

One place reads them, for every caller (the registry, ``ducksets show``, the
notebook reprs, the data package): ``relation_comments`` resolves keys by
``_introspect``'s rule (its own query, wrapped) and reads the relation's and
its columns' comments in the same catalog query. A comment that is NULL or
empty is no comment. dbt-duckdb's ``persist_docs`` writes exactly these
comments, so dbt's descriptions need no extra step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import duckdb

from ducksets._introspect import _FIND_RELATIONS
from ducksets._names import fold_name
from ducksets.keys import TableKey

_NO_COLUMNS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Comments:
    """The comment of one relation and of its columns; ``None``/absent where there is none."""

    table: str | None = None
    """the ``COMMENT ON TABLE|VIEW`` text"""
    columns: Mapping[str, str] = field(default_factory=lambda: _NO_COLUMNS)
    """column name (as the catalog spells it) -> ``COMMENT ON COLUMN`` text, in column order;
    only columns that have a comment"""

    def __bool__(self) -> bool:
        return self.table is not None or bool(self.columns)


NO_COMMENTS = Comments()
"""What a relation without comments (or a key naming nothing) has."""

# ``_introspect``'s key resolution (its parameters $1-$3, its columns), with
# each relation's comment and its columns' non-empty comments joined on: one
# statement, so one catalog state.
_RELATION_COMMENTS = f"""
    WITH found AS ({_FIND_RELATIONS})
    SELECT found.*, relation.comment, commented.columns
    FROM found
    LEFT JOIN (
        SELECT database_name, schema_name, table_name AS relation_name, comment
        FROM duckdb_tables()
        UNION ALL
        SELECT database_name, schema_name, view_name, comment
        FROM duckdb_views()
        WHERE NOT internal
    ) AS relation
        ON relation.database_name = found.database_name
        AND relation.schema_name = found.schema_name
        AND relation.relation_name = found.relation_name
    LEFT JOIN (
        SELECT database_name, schema_name, table_name,
            list([column_name, comment] ORDER BY column_index) AS columns
        FROM duckdb_columns()
        WHERE comment <> ''
        GROUP BY database_name, schema_name, table_name
    ) AS commented
        ON commented.database_name = found.database_name
        AND commented.schema_name = found.schema_name
        AND commented.table_name = found.relation_name
"""


def relation_comments(
    con: duckdb.DuckDBPyConnection, keys: Sequence[TableKey]
) -> dict[TableKey, Comments]:
    """The comments of the relation each key names, in one catalog query.

    Keys resolve as ``_introspect.find_relations`` resolves them (ASCII-only
    case folding, a two-part key names the current database, only an existing
    table or view answers). A key that names nothing, or a relation without
    comments, gets ``NO_COMMENTS``. Keys equal by DuckDB's rule share one entry.
    """
    unique = list(dict.fromkeys(keys))
    found: dict[TableKey, Comments] = dict.fromkeys(unique, NO_COMMENTS)
    if not unique:
        return found
    folded = [[None if k.database is None else fold_name(k.database) for k in unique]]
    folded += [[fold_name(k.schema) for k in unique], [fold_name(k.name) for k in unique]]
    seen: set[int] = set()
    exact: set[int] = set()
    for row in con.execute(_RELATION_COMMENTS, folded).fetchall():
        i, database_name, schema_name, relation_name, _kind, default_database = row[:6]
        key = unique[i]
        spelled = (key.database or default_database, key.schema, key.name)
        # find_relations' pick: one row per key, the exact spelling should a
        # catalog ever hold two that fold alike.
        if i in exact:
            continue
        if (database_name, schema_name, relation_name) == spelled:
            exact.add(i)
        elif i in seen:
            continue
        seen.add(i)
        found[key] = _comments(row[6], row[7])
    return found


def _comments(table: Any, columns: list[list[str]] | None) -> Comments:
    described = MappingProxyType({c[0]: c[1] for c in columns}) if columns else _NO_COLUMNS
    if not table and not described:
        return NO_COMMENTS
    return Comments(str(table) if table else None, described)
