"""Declared table schemas: columns with DuckDB types, nullability and a primary key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import duckdb
from sqlglot import exp
from sqlglot.errors import ParseError

from ducksets.errors import SchemaError
from ducksets.keys import TableKey, parse_table_key


@dataclass(frozen=True)
class Column:
    """One declared column; ``type`` is DuckDB's spelling (``TEXT`` becomes ``VARCHAR``)."""

    name: str
    type: str
    nullable: bool = True

    def __post_init__(self) -> None:
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
        names = [c.name.casefold() for c in self.columns]
        if not names:
            raise SchemaError("a table schema needs at least one column")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            msg = f"columns declared twice: {', '.join(duplicates)}; column names must be unique"
            raise SchemaError(msg)
        unknown = [k for k in self.primary_key if k.casefold() not in names]
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
    try:
        # sqlglot first: it refuses anything that is not a type expression.
        exp.DataType.build(type_text, dialect="duckdb")
        return str(duckdb.type(type_text))
    except (ParseError, ValueError, duckdb.Error) as exc:
        msg = f"unknown column type {type_text!r}; use a DuckDB type such as VARCHAR or BIGINT"
        raise SchemaError(msg) from exc


def schemas_from_catalog(tables: Mapping[str, Mapping[str, Any]]) -> dict[str, TableSchema]:
    """``{table_key: TableSchema}`` from a ``catalog.json``-shaped ``tables`` mapping."""
    return {key: TableSchema.from_dict(spec) for key, spec in tables.items()}
