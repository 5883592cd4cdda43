"""The comments (``COMMENT ON``) of tables, views and their columns: the datasets' descriptions.

One place reads them, for every caller (the registry, ``ducksets show``, the
notebook reprs, the data package): ``described_relations`` resolves keys by
``_introspect``'s rule (its own query, wrapped) and reads the relation's and
its columns' comments, with the columns and a table's size, in the same
catalog query (``relation_comments`` keeps the comments of it);
``catalog_comments`` reads those of the catalog's datasets for the registry,
without parsing every key. A comment that is NULL or
empty is no comment. dbt-duckdb's ``persist_docs`` writes exactly these
comments, so dbt's descriptions need no extra step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import duckdb

from ducksets._introspect import (
    _FIND_RELATIONS_AND,
    Relation,
    chosen_rows,
    key_parameters,
)
from ducksets._key_index import joined_form, key_or_none
from ducksets._names import SQL_ASCII_FOLD, fold_name
from ducksets.keys import TableKey
from ducksets.sqltext import qualified_name


class _NoColumnComments(Mapping[str, str]):
    """The empty, hashable mapping: a dataclass default needs no factory call per object."""

    def __getitem__(self, key: str) -> str:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"


NO_COLUMN_COMMENTS: Mapping[str, str] = _NoColumnComments()
"""The ``columns`` of a relation none of whose columns has a comment."""


@dataclass(frozen=True)
class Comments:
    """The comment of one relation and of its columns; ``None``/absent where there is none."""

    table: str | None = None
    """the ``COMMENT ON TABLE|VIEW`` text"""
    columns: Mapping[str, str] = field(default=NO_COLUMN_COMMENTS, hash=False)
    """column name (as the catalog spells it) -> ``COMMENT ON COLUMN`` text, in column order;
    only columns that have a comment"""

    def __bool__(self) -> bool:
        return self.table is not None or bool(self.columns)


NO_COMMENTS = Comments()
"""What a relation without comments (or a key naming nothing) has."""

# Every table and view with its comment, and the non-empty comments of the
# columns of each relation that has any (in column order).
_RELATIONS = """
    SELECT database_name, schema_name, table_name AS relation_name, comment
    FROM duckdb_tables()
    UNION ALL
    SELECT database_name, schema_name, view_name, comment
    FROM duckdb_views()
    WHERE NOT internal
"""
_COMMENTED_COLUMNS = """
    SELECT database_name, schema_name, table_name AS relation_name,
        list([column_name, comment] ORDER BY column_index) AS columns
    FROM duckdb_columns()
    WHERE comment <> ''
    GROUP BY database_name, schema_name, table_name
"""
_SAME_RELATION = """
        ON {0}.database_name = {1}.database_name
        AND {0}.schema_name = {1}.schema_name
        AND {0}.relation_name = {1}.relation_name
"""

# Every relation that has a comment or a commented column.
_COMMENTED = f"""
    SELECT relation.database_name, relation.schema_name, relation.relation_name,
        relation.comment, commented.columns, current_database()
    FROM ({_RELATIONS}) AS relation
    LEFT JOIN ({_COMMENTED_COLUMNS}) AS commented {_SAME_RELATION.format("commented", "relation")}
    WHERE relation.comment <> '' OR commented.columns IS NOT NULL
"""


def relation_comments(
    con: duckdb.DuckDBPyConnection, keys: Sequence[TableKey]
) -> dict[TableKey, Comments]:
    """The comments of the relation each key names, in one catalog query.

    Keys resolve as ``_introspect.find_relations`` resolves them (ASCII-only
    case folding, a two-part key names the current database, only an existing
    table or view answers). A key that names nothing, or a relation without
    comments, gets ``NO_COMMENTS``. Keys equal by DuckDB's rule share one entry.
    (``described_relations``' query, which reads the columns too.)
    """
    found = described_relations(con, keys)
    return {key: NO_COMMENTS if d is None else d.comments for key, d in found.items()}


@dataclass(frozen=True)
class DescribedRelation:
    """A relation found in one catalog state, with its comments and what an export records."""

    relation: Relation
    comments: Comments
    columns: tuple[tuple[str, str], ...]
    """(name, DuckDB type) of each column as the catalog lists it, in column order
    (a view's entry may lag its query: bind the view to know its columns)"""
    estimated_rows: int | None
    """``duckdb_tables().estimated_size`` of a table of a DuckDB database; ``None`` otherwise"""


# ``_introspect``'s key resolution, each relation's comment, a DuckDB table's
# estimated row count, and the position, name, type and comment of every
# column, one row per column (gathered and ordered in Python: a list aggregate
# or an ORDER BY cost more than the rest of the query): one statement, so one
# catalog state. Columns are joined to the relations found, so the cost
# follows the keys asked for.
_FOUND_WITH_SIZE = _FIND_RELATIONS_AND.format(more=", relations.comment, relations.estimated_size")
_RELATION_DETAILS = f"""
    WITH found AS ({_FOUND_WITH_SIZE})
    SELECT found.*, CASE WHEN databases.type = 'duckdb' THEN found.estimated_size END,
        columns.column_index, columns.column_name, columns.data_type, columns.comment
    FROM found
    LEFT JOIN duckdb_databases() AS databases ON databases.database_name = found.database_name
    LEFT JOIN duckdb_columns() AS columns
        ON columns.database_name = found.database_name
        AND columns.schema_name = found.schema_name
        AND columns.table_name = found.relation_name
"""


def described_relations(
    con: duckdb.DuckDBPyConnection, keys: Sequence[TableKey]
) -> dict[TableKey, DescribedRelation | None]:
    """The relation each key names, with comments, columns and size, in one catalog query.

    Keys resolve as ``_introspect.find_relations`` resolves them; a key that
    names nothing gets ``None``. Keys equal by DuckDB's rule share one entry.
    """
    unique = list(dict.fromkeys(keys))
    found: dict[TableKey, DescribedRelation | None] = dict.fromkeys(unique)
    if not unique:
        return found
    relations: dict[tuple[Any, ...], Sequence[Any]] = {}
    columns: dict[tuple[Any, ...], list[tuple[int, str, str, str | None]]] = {}
    for row in con.execute(_RELATION_DETAILS, key_parameters(unique)).fetchall():
        head = row[:4]  # the key's index and the relation: one row per column
        listed = columns.get(head)
        if listed is None:
            relations[head] = row
            listed = columns[head] = []
        if row[9] is not None:
            listed.append(row[9:])
    for key, chosen in chosen_rows(unique, relations.values()).items():
        row = tuple(chosen)
        listed = sorted(columns[row[:4]])  # by column_index
        commented = [[name, comment] for _, name, _, comment in listed if comment]
        found[key] = DescribedRelation(
            Relation(row[1], row[2], row[3], row[4]),
            _comments(row[6], commented),
            tuple((name, data_type) for _, name, data_type, _ in listed),
            row[8],
        )
    return found


def _comments(table: Any, columns: list[list[str]] | None) -> Comments:
    described = MappingProxyType({c[0]: c[1] for c in columns}) if columns else NO_COLUMN_COMMENTS
    if not table and not described:
        return NO_COMMENTS
    return Comments(str(table) if table else None, described)


def catalog_comments(con: duckdb.DuckDBPyConnection, pack_schema: str) -> dict[str, Comments]:
    """The comments of the relations the catalog's datasets name, by key text as written there.

    For the registry, which must not parse every key: one scan lists the
    commented relations (the pack's own tables aside); only when there are
    some, one query over the catalog picks the key texts whose dot-joined,
    folded parts equal one of theirs (and every quoted text), and those are
    parsed and compared as ``TableKey``s compare (ASCII case folded; a
    two-part key names the current database): the rule ``relation_comments``
    resolves by. Texts that name no commented relation, or do not parse,
    are left out.
    """
    by_form: dict[str, list[tuple[TableKey, Comments]]] = {}
    for database, schema, name, table, columns, current in con.execute(_COMMENTED).fetchall():
        if _is_pack_table(database == current, schema, pack_schema, table, columns):
            continue  # no dataset is one of these, and they would be in every load
        comments = _comments(table, columns)
        names = [TableKey(database, schema, name)]
        if database == current:
            names.append(TableKey(None, schema, name))
        for named in names:
            by_form.setdefault(fold_name(".".join(named.parts)), []).append((named, comments))
    found: dict[str, Comments] = {}
    if not by_form:
        return found
    datasets = qualified_name(pack_schema, "datasets")
    candidates = con.execute(_CANDIDATES.format(datasets=datasets), [list(by_form)]).fetchall()
    for (text,) in candidates:
        key = key_or_none(text)
        for named, comments in by_form.get(joined_form(text) or "", ()) if key else ():
            if key == named:
                found[text] = comments
    return found


# The catalog's key texts that may name a relation of the joined, folded
# names $1: an unquoted text names its parts exactly as written (a bare part
# holds no dot); a quoted one is parsed in Python.
_CANDIDATES = f"""
    SELECT table_key FROM {{datasets}}
    WHERE contains(table_key, '"')
        OR {SQL_ASCII_FOLD.format("table_key")} IN (SELECT unnest($1::VARCHAR[]))
"""


def _is_pack_table(current: bool, schema: str, pack_schema: str, table: Any, columns: Any) -> bool:
    """One of the pack's tables: in its schema, commented ``ducksets: ...``, no column comments."""
    in_pack = current and fold_name(schema) == fold_name(pack_schema)
    return in_pack and str(table).startswith("ducksets:") and not columns
