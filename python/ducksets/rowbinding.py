"""Row bindings: a TypedDict row model, its serializer, and batched inserts through it."""

from __future__ import annotations

import datetime as dt
import operator
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar, is_typeddict

import duckdb

from ducksets._args import require_connection
from ducksets.errors import ArgumentTypeError, RowValidationError, SchemaError, first_line
from ducksets.keys import parse_table_key
from ducksets.schema import Column, TableSchema
from ducksets.sqltext import quote_identifier

if TYPE_CHECKING:
    from ducksets.registry import Dataset

RowT = TypeVar("RowT", bound=Mapping[str, Any])


@dataclass(frozen=True)
class RowBinding(Generic[RowT]):
    """A row model (a TypedDict) and the function that turns a row into a tuple.

    The tuple follows the table's column order; ``for_schema`` derives both
    from a ``TableSchema`` and checks the model against it when defined.
    """

    row_type: type[RowT]
    to_tuple: Callable[[RowT], tuple[Any, ...]]

    @classmethod
    def for_schema(cls, schema: TableSchema, row_type: type[RowT]) -> RowBinding[RowT]:
        """Bind ``row_type`` to ``schema``: its keys must be exactly the columns.

        Raises
        ------
        SchemaError
            ``row_type`` is not a TypedDict, or its keys and the columns differ.
        """
        keys = typed_dict_keys(row_type)
        columns = schema.column_names
        missing = [c for c in columns if c not in keys]
        extra = sorted(keys - set(columns))
        if missing or extra:
            msg = (
                f"{row_type.__name__} does not match its table: "
                f"missing keys {missing}, keys that are not columns {extra}; "
                "make the TypedDict's keys the table's column names"
            )
            raise SchemaError(msg)
        return cls(row_type, tuple_in_order(columns))


def tuple_in_order(columns: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function that turns a row mapping into a tuple of ``columns``' values, in order."""
    getter = operator.itemgetter(*columns)
    if len(columns) == 1:
        return lambda row: (getter(row),)  # itemgetter of one key returns the bare value
    return getter


def typed_dict_keys(row_type: type[Any]) -> frozenset[str]:
    """All keys of a TypedDict class, required and optional."""
    if not is_typeddict(row_type):
        msg = f"{row_type!r} is not a TypedDict; declare rows as class Row(TypedDict): ..."
        raise SchemaError(msg)
    keys: frozenset[str] = row_type.__required_keys__ | row_type.__optional_keys__
    return keys


def insert_rows(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert rows into a dataset's table in one statement; all or nothing.

    Parameters
    ----------
    con
        The connection holding the table.
    dataset
        A base-table dataset with a declared ``schema`` (and optionally a ``row_binding``).
    rows
        Mappings of column name to value (the binding's TypedDicts).

    Returns
    -------
    int
        The number of rows written.

    Raises
    ------
    ArgumentTypeError
        ``con``, ``dataset`` or ``rows`` (or one row) has the wrong type.
    RowValidationError
        A row has a missing or extra key, a value of the wrong type, or a NULL
        in a NOT NULL column; the message names the row index and column.
        The insert itself failing (say, a duplicate key) raises it too.
    """
    _check_arguments(con, dataset, rows)
    schema = dataset.schema
    if schema is None or dataset.is_view:
        msg = (
            f"dataset {dataset.name!r} has no declared table schema; "
            "declare one (bootstrap_metadata_datasets(tables=...)) to insert through it"
        )
        raise SchemaError(msg)
    for index, row in enumerate(rows):
        _check_row(index, row, schema.columns)
    if not rows:
        return 0
    binding = dataset.row_binding
    to_tuple = binding.to_tuple if binding is not None else tuple_in_order(schema.column_names)
    column_values = [list(values) for values in zip(*map(to_tuple, rows), strict=True)]
    # One INSERT of parallel unnested lists: a single statement (atomic), no per-row round trips.
    select_list = ", ".join(
        f"CAST(unnest(?) AS {c.type}) AS {quote_identifier(c.name)}" for c in schema.columns
    )
    target = parse_table_key(dataset.table_key).sql()
    names = ", ".join(quote_identifier(c.name) for c in schema.columns)
    try:
        con.execute(f"INSERT INTO {target} ({names}) SELECT {select_list}", column_values)
    except duckdb.Error as exc:
        msg = f"insert into {dataset.name!r} failed, nothing was written: {first_line(exc)}"
        raise RowValidationError(msg) from exc
    return len(rows)


def _check_arguments(con: object, dataset: object, rows: object) -> None:
    """Wrong types are refused before anything is read or written."""
    from ducksets.registry import Dataset  # registry imports this module

    require_connection("con", con)
    if not isinstance(dataset, Dataset):
        msg = f"dataset must be a Dataset (gateway.dataset(name)), not {type(dataset).__name__}"
        raise ArgumentTypeError(msg, parameter="dataset", value=dataset)
    # A str or a single mapping is a sequence/iterable too; both are mistakes here.
    if not isinstance(rows, Sequence) or isinstance(rows, str | bytes):
        msg = f"rows must be a sequence of mappings (a list of dicts), not {type(rows).__name__}"
        raise ArgumentTypeError(msg, parameter="rows", value=rows)
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            msg = f"rows[{index}] must be a mapping of column name to value, not {row!r}"
            raise ArgumentTypeError(msg, parameter="rows", value=row)


def _check_row(index: int, row: Mapping[str, Any], columns: tuple[Column, ...]) -> None:
    names = {c.name for c in columns}
    for key in row:
        if key not in names:
            msg = f"row {index}: {key!r} is not a column; columns are {sorted(names)}"
            raise RowValidationError(msg)
    for column in columns:
        if column.name not in row:
            msg = f"row {index}: column {column.name!r} is missing"
            raise RowValidationError(msg)
        value = row[column.name]
        if value is None:
            if not column.nullable:
                msg = f"row {index}: column {column.name!r} is NOT NULL but the value is None"
                raise RowValidationError(msg)
            continue
        expected = python_types_for(column.type)
        if expected and (
            (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected)
        ):
            wanted = " or ".join(t.__name__ for t in expected)
            msg = (
                f"row {index}: column {column.name!r} ({column.type}) takes {wanted}, "
                f"got {type(value).__name__} {value!r}"
            )
            raise RowValidationError(msg)


_INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}


def python_types_for(duckdb_type: str) -> tuple[type, ...]:
    """The Python types a value of a DuckDB column type may have; ``()`` means unchecked."""
    if duckdb_type in _INTEGER_TYPES:
        return (int,)
    if duckdb_type in {"FLOAT", "DOUBLE"}:
        return (float, int)
    if duckdb_type.startswith("DECIMAL"):
        return (Decimal, int, float)
    exact: dict[str, tuple[type, ...]] = {
        "BOOLEAN": (bool,),
        "VARCHAR": (str,),
        "JSON": (str,),
        "BLOB": (bytes,),
        "DATE": (dt.date,),
        "TIME": (dt.time,),
        "TIMESTAMP": (dt.datetime,),
        "TIMESTAMP WITH TIME ZONE": (dt.datetime,),
        "UUID": (uuid.UUID, str),
    }
    if duckdb_type.endswith("[]"):
        return (list, tuple)
    return exact.get(duckdb_type, ())
