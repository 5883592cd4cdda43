"""Declared table schemas: columns with DuckDB types, nullability and a primary key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import duckdb

from ducksets._names import fold_name
from ducksets.errors import ArgumentTypeError, SchemaError
from ducksets.keys import TableKey, parse_table_key

if TYPE_CHECKING:
    from sqlglot import exp

# A type name, optional (precision[,scale]) and array suffixes: text that
# DuckDB's own parser reads as exactly one type or refuses, so it needs no
# sqlglot check (tests/test_schema.py compares both on every type and keyword
# name DuckDB lists).
_SIMPLE_TYPE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\([0-9]+(,[0-9]+)?\))?(\[[0-9]*\])*")


@dataclass(frozen=True)
class Column:
    """One declared column; ``type`` is DuckDB's spelling (``TEXT`` becomes ``VARCHAR``)."""

    name: str
    type: str
    nullable: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            msg = f"column name must be a string, not {type(self.name).__name__} {self.name!r}"
            raise ArgumentTypeError(msg, parameter="name", value=self.name)
        if not self.name.strip():
            raise SchemaError(f"column name {self.name!r} is empty; give the column a name")
        if not isinstance(self.type, str):
            msg = (
                f"column {self.name!r}: type must be a string such as 'BIGINT', "
                f"not {type(self.type).__name__} {self.type!r}"
            )
            raise ArgumentTypeError(msg, parameter="type", value=self.type)
        if not isinstance(self.nullable, bool):
            msg = f"column {self.name!r}: nullable must be True or False, not {self.nullable!r}"
            raise ArgumentTypeError(msg, parameter="nullable", value=self.nullable)
        # Normalise once, so comparisons with duckdb_columns() are exact.
        object.__setattr__(self, "type", duckdb_type_name(self.type))


@dataclass(frozen=True)
class TableSchema:
    """A base table's declared columns, in order, and its optional primary key.

    >>> s = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "TEXT")), ("id",))
    >>> s.create_table_sql("core.items")
    'CREATE TABLE IF NOT EXISTS "core"."items" (id BIGINT NOT NULL, label TEXT, PRIMARY KEY (id))'
    """

    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.columns, str) or not all(isinstance(c, Column) for c in self.columns):
            msg = f"columns must be a tuple of Column, not {self.columns!r}"
            raise ArgumentTypeError(msg, parameter="columns", value=self.columns)
        if isinstance(self.primary_key, str) or not all(
            isinstance(k, str) for k in self.primary_key
        ):
            msg = f"primary_key must be a tuple of column names, not {self.primary_key!r}"
            raise ArgumentTypeError(msg, parameter="primary_key", value=self.primary_key)
        # DuckDB folds ASCII case only: "Ä" and "ä" are two columns.
        names = [fold_name(c.name) for c in self.columns]
        if not names:
            raise SchemaError("a table schema needs at least one column")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            msg = f"columns declared twice: {', '.join(duplicates)}; column names must be unique"
            raise SchemaError(msg)
        unknown = [k for k in self.primary_key if fold_name(k) not in names]
        if unknown:
            msg = f"primary key names unknown columns {unknown}; declare them first"
            raise SchemaError(msg)

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names, in declared order."""
        return tuple(c.name for c in self.columns)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> TableSchema:
        """Build from ``{"columns": [{"name", "type", "nullable"}], "primary_key": [...]}``.

        That is the shape of a table in ``catalog.json`` fixtures.
        """
        columns = tuple(
            Column(c["name"], c["type"], bool(c.get("nullable", True))) for c in spec["columns"]
        )
        return cls(columns, tuple(spec.get("primary_key") or ()))

    def create_table_sql(self, table_key: str | TableKey, *, if_not_exists: bool = True) -> str:
        """The ``CREATE TABLE`` statement for this schema, built with sqlglot."""
        from sqlglot import exp  # slow to import: only where a statement is built

        key = table_key if isinstance(table_key, TableKey) else parse_table_key(table_key)
        table = exp.to_table(key.sql(), dialect="duckdb")
        definitions: list[exp.Expression] = [_column_def(c) for c in self.columns]
        if self.primary_key:
            definitions.append(
                exp.PrimaryKey(expressions=[exp.to_identifier(k) for k in self.primary_key])
            )
        create = exp.Create(
            this=exp.Schema(this=table, expressions=definitions),
            kind="TABLE",
            exists=if_not_exists,
        )
        return create.sql(dialect="duckdb")


def _column_def(column: Column) -> exp.ColumnDef:
    from sqlglot import exp

    constraints = []
    if not column.nullable:
        constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
    return exp.ColumnDef(
        this=exp.to_identifier(column.name),
        kind=exp.DataType.build(column.type, dialect="duckdb"),
        constraints=constraints,
    )


@cache
def duckdb_type_name(type_text: str) -> str:
    """DuckDB's own spelling of a type: ``text`` -> ``VARCHAR``, ``int`` -> ``INTEGER``.

    Raises
    ------
    SchemaError
        DuckDB does not know the type.
    """
    msg = f"unknown column type {type_text!r}; use a DuckDB type such as VARCHAR or BIGINT"
    try:
        name = str(duckdb.type(type_text))
    except (ValueError, duckdb.Error) as exc:
        raise SchemaError(msg) from exc
    # DuckDB's own spelling (read back from a catalog) or a plain type name is
    # exactly one type; 'as(3)' reads as ANY, which sqlglot refuses below.
    # A name DuckDB had to quote is a keyword taken for a user type (DuckDB 1.x):
    # sqlglot decides those, as before.
    plain = name != "ANY" and '"' not in name
    if plain and (name == type_text or _SIMPLE_TYPE.fullmatch(type_text)):
        return name
    import sqlglot  # slow to import: only for types with more syntax (STRUCT(...), MAP(...))
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        # In a CAST it must read as exactly one type with nothing after it
        # ('INTEGER, b VARCHAR' and 'INT NOT NULL' are not; DuckDB's own
        # duckdb.type() ignores such trailing text).
        cast = sqlglot.parse_one(f"CAST(NULL AS {type_text})", read="duckdb")
    except ParseError as exc:
        raise SchemaError(msg) from exc
    if not isinstance(cast, exp.Cast) or not isinstance(cast.to, exp.DataType):
        raise SchemaError(msg)
    return name


def schemas_from_catalog(tables: Mapping[str, Mapping[str, Any]]) -> dict[str, TableSchema]:
    """``{table_key: TableSchema}`` from a ``catalog.json``-shaped ``tables`` mapping."""
    return {key: TableSchema.from_dict(spec) for key, spec in tables.items()}
