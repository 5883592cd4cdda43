"""Every public function, called with wrong types, None, empty, negative, huge and NaN values.

Each bad input must give ONE typed ducksets error (a ``DucksetsError`` that is
also the builtin it means: ``TypeError``, ``ValueError``, ``LookupError``,
``OSError``...) or be a documented clamp; no other exception may escape, and
the database must be as it was.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

import ducksets as ds
from ducksets import (
    ArgumentTypeError,
    BackendLimits,
    CatalogMissingError,
    Column,
    ConfigError,
    DatasetQueryService,
    DucksetsError,
    InvalidArgumentError,
    InvalidFilenameError,
    InvalidTableKeyError,
    NotADatabaseError,
    RowValidationError,
    SchemaError,
    StorageConfig,
    TableSchema,
    UnknownDatasetError,
)

NAN = math.nan
HUGE = 2**63 - 1


@dataclass
class Env:
    """One database used by every case: table main.t (3 rows) registered as 't'."""

    gateway: ds.Gateway
    tmp: Path

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.gateway.con

    def service(self, max_rows: int = 1000) -> DatasetQueryService:
        return DatasetQueryService(self.gateway, limits=BackendLimits(max_rows_per_call=max_rows))

    def read(self, **kwargs: Any) -> ds.DatasetRowsResponse:
        kwargs.setdefault("dataset_name", "t")
        return self.service().read_dataset_rows(**kwargs)


SCHEMA = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "VARCHAR")))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built once: table main.t (3 rows) registered as 't'."""
    path = tmp_path_factory.mktemp("template") / "edge.duckdb"
    config = StorageConfig(path, tables={"main.t": SCHEMA}, names={"main.t": "t"})
    with ds.open_gateway(config) as gateway:
        gateway.con.execute("INSERT INTO main.t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    return path


@pytest.fixture
def env(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """A copy of the template for each case, so a wrongly accepted input harms no other case."""
    (tmp_path / "not-a-db.parquet").write_bytes(b"PAR1 not a database")
    (tmp_path / "a-directory").mkdir()
    path = tmp_path / "edge.duckdb"
    shutil.copyfile(template, path)
    # A relative path such as output_dir='' must land here, never in the checkout.
    monkeypatch.chdir(tmp_path)
    config = StorageConfig(path, tables={"main.t": SCHEMA}, names={"main.t": "t"})
    gateway = ds.Gateway(config, duckdb.connect(str(path)))
    yield Env(gateway, tmp_path)
    gateway.close()


OK = None  # a documented clamp: the call returns normally

Call = Callable[[Env], object]
Expected = type[DucksetsError] | tuple[type[DucksetsError], ...] | None
CASES: list[tuple[str, Call, Expected]] = []


def case(label: str, expected: Expected, call: Call) -> None:
    CASES.append((label, call, expected))


KEY_TYPE = (ArgumentTypeError, InvalidTableKeyError)  # either names the wrong key


# --- the read service ---------------------------------------------------------
for bad in (2.5, "5", None, NAN, math.inf, True, b"5", [5]):
    case(f"read limit={bad!r}", ArgumentTypeError, lambda e, v=bad: e.read(limit=v))
    case(f"read offset={bad!r}", ArgumentTypeError, lambda e, v=bad: e.read(offset=v))
for bad in (None, 1, b"t", ["t"]):
    case(f"read dataset_name={bad!r}", ArgumentTypeError, lambda e, v=bad: e.read(dataset_name=v))
case("read dataset_name=''", InvalidArgumentError, lambda e: e.read(dataset_name=""))
case("read dataset_name='nope'", UnknownDatasetError, lambda e: e.read(dataset_name="nope"))
case(
    "read dataset_name with a lone surrogate",
    InvalidArgumentError,
    lambda e: e.read(dataset_name="t\ud800"),
)
case("read limit=-1 (clamped to 0)", OK, lambda e: e.read(limit=-1))
case("read offset=-5 (clamped to 0)", OK, lambda e: e.read(offset=-5))
case("read offset=2**70 (clamped)", OK, lambda e: e.read(offset=2**70))
case("read limit=10**30 (clamped)", OK, lambda e: e.read(limit=10**30))
case(
    "read limit=2**63-1 with max 2**63-1",
    OK,
    lambda e: e.service(HUGE).read_dataset_rows(dataset_name="t", limit=HUGE, offset=HUGE),
)
case(
    "read limit=2**63-1, offset 0, max 2**63-1",
    OK,
    lambda e: e.service(HUGE).read_dataset_rows(dataset_name="t", limit=HUGE),
)
case("service gateway=None", ArgumentTypeError, lambda e: DatasetQueryService(None))  # type: ignore[arg-type]
case("service limits=5", ArgumentTypeError, lambda e: DatasetQueryService(e.gateway, limits=5))  # type: ignore[arg-type]

# --- BackendLimits --------------------------------------------------------------
for bad in ("5", 2.5, None, True, NAN, b"1"):
    case(f"BackendLimits({bad!r})", ArgumentTypeError, lambda e, v=bad: BackendLimits(v))
for bad in (0, -1, 2**63, 2**80):
    case(f"BackendLimits({bad!r})", ConfigError, lambda e, v=bad: BackendLimits(v))

# --- dataset_relation, lookup_table_key, unregister_dataset ------------------------
for fn_name in ("dataset_relation", "lookup_table_key", "unregister_dataset"):
    fn = getattr(ds, fn_name)
    for bad in (None, 1, b"t"):
        case(f"{fn_name}(name={bad!r})", ArgumentTypeError, lambda e, f=fn, v=bad: f(e.con, v))
    case(f"{fn_name}(name='')", InvalidArgumentError, lambda e, f=fn: f(e.con, ""))
    case(f"{fn_name}(name='nope')", UnknownDatasetError, lambda e, f=fn: f(e.con, "nope"))
    case(f"{fn_name}(con=None)", ArgumentTypeError, lambda e, f=fn: f(None, "t"))
    case(
        f"{fn_name}(pack_schema='nope')",
        CatalogMissingError,
        lambda e, f=fn: f(e.con, "t", pack_schema="nope"),
    )
    case(
        f"{fn_name}(pack_schema=None)",
        ArgumentTypeError,
        lambda e, f=fn: f(e.con, "t", pack_schema=None),
    )

# --- parse_table_key ---------------------------------------------------------------
for bad in (None, 5, b"a.b", NAN):
    case(f"parse_table_key({bad!r})", KEY_TYPE, lambda e, v=bad: ds.parse_table_key(v))
for bad in ("", "a", "a.b.c.d", "nan", "'https://example.invalid/x'", "a.b; DROP TABLE t"):
    case(f"parse_table_key({bad!r})", InvalidTableKeyError, lambda e, v=bad: ds.parse_table_key(v))

# --- register_dataset -----------------------------------------------------------
case("register key=None", KEY_TYPE, lambda e: ds.register_dataset(e.con, None))  # type: ignore[arg-type]
case("register key=5", KEY_TYPE, lambda e: ds.register_dataset(e.con, 5))  # type: ignore[arg-type]
case("register key=''", InvalidTableKeyError, lambda e: ds.register_dataset(e.con, ""))
case("register missing relation", DucksetsError, lambda e: ds.register_dataset(e.con, "main.nope"))
case("register name=5", ArgumentTypeError, lambda e: ds.register_dataset(e.con, "main.t", name=5))
case(
    "register name=''",
    (InvalidArgumentError, InvalidFilenameError),
    lambda e: ds.register_dataset(e.con, "main.t", name=""),
)
case(
    "register is_view='yes'",
    ArgumentTypeError,
    lambda e: ds.register_dataset(e.con, "main.t", is_view="yes"),
)
case(
    "register jsonl_filename=5",
    ArgumentTypeError,
    lambda e: ds.register_dataset(e.con, "main.t", jsonl_filename=5),
)
case(
    "register jsonl_filename='../x'",
    InvalidFilenameError,
    lambda e: ds.register_dataset(e.con, "main.t", jsonl_filename="../x.jsonl"),
)
case(
    "register schema='id INT'",
    ArgumentTypeError,
    lambda e: ds.register_dataset(e.con, "main.t", schema="id INT"),
)
case("register con=None", ArgumentTypeError, lambda e: ds.register_dataset(None, "main.t"))  # type: ignore[arg-type]

# --- load_dataset_registry, bootstrap, drift, sync ---------------------------------
case("load con=None", ArgumentTypeError, lambda e: ds.load_dataset_registry(None))  # type: ignore[arg-type]
case(
    "load pack_schema='nope'",
    CatalogMissingError,
    lambda e: ds.load_dataset_registry(e.con, pack_schema="nope"),
)
case("load schemas=5", ArgumentTypeError, lambda e: ds.load_dataset_registry(e.con, schemas=5))
case(
    "load pack_schema=''",
    InvalidArgumentError,
    lambda e: ds.load_dataset_registry(e.con, pack_schema=""),
)
case(
    "drift pack_schema=''",
    InvalidArgumentError,
    lambda e: ds.catalog_drift(e.con, pack_schema=""),
)
case(
    "bootstrap tables=None",
    ArgumentTypeError,
    lambda e: ds.bootstrap_metadata_datasets(e.con, tables=None),
)
case(
    "bootstrap tables={'main.t': 5}",
    ArgumentTypeError,
    lambda e: ds.bootstrap_metadata_datasets(e.con, tables={"main.t": 5}),
)
case(
    "bootstrap views=[None]",
    KEY_TYPE,
    lambda e: ds.bootstrap_metadata_datasets(e.con, tables={}, views=[None]),
)
case("catalog_drift con=None", ArgumentTypeError, lambda e: ds.catalog_drift(None))  # type: ignore[arg-type]
case(
    "catalog_drift pack_schema='nope'",
    CatalogMissingError,
    lambda e: ds.catalog_drift(e.con, pack_schema="nope"),
)
case("sync schemas=None", ArgumentTypeError, lambda e: ds.sync_catalog(e.con, None))
case("sync schemas='main'", ArgumentTypeError, lambda e: ds.sync_catalog(e.con, "main"))

# --- StorageConfig and open_gateway ----------------------------------------------
case("StorageConfig(None)", ArgumentTypeError, lambda e: StorageConfig(None))  # type: ignore[arg-type]
case("StorageConfig(5)", ArgumentTypeError, lambda e: StorageConfig(5))  # type: ignore[arg-type]
case(
    "StorageConfig(path with a lone surrogate)",
    InvalidArgumentError,
    lambda e: ds.open_gateway(StorageConfig(e.tmp / "base\ud800.duckdb")),
)
case("StorageConfig(b'x.db')", ArgumentTypeError, lambda e: StorageConfig(b"x.db"))  # type: ignore[arg-type]
case("StorageConfig('')", InvalidArgumentError, lambda e: StorageConfig(""))
case("StorageConfig('  ')", InvalidArgumentError, lambda e: StorageConfig("  "))
case(
    "StorageConfig(read_only='yes')",
    ArgumentTypeError,
    lambda e: StorageConfig(":memory:", read_only="yes"),  # type: ignore[arg-type]
)
case(
    "StorageConfig(pack_schema='')",
    InvalidArgumentError,
    lambda e: StorageConfig(":memory:", pack_schema=""),
)
case(
    "StorageConfig(tables=5)",
    ArgumentTypeError,
    lambda e: StorageConfig(":memory:", tables=5),  # type: ignore[arg-type]
)
case(
    "StorageConfig(duckdb_config=None)",
    ArgumentTypeError,
    lambda e: StorageConfig(":memory:", duckdb_config=None),  # type: ignore[arg-type]
)
case("open_gateway(None)", ArgumentTypeError, lambda e: ds.open_gateway(None))  # type: ignore[arg-type]
case("open_gateway('x.db')", ArgumentTypeError, lambda e: ds.open_gateway("x.db"))  # type: ignore[arg-type]
case(
    "open_gateway(a directory)",
    NotADatabaseError,
    lambda e: ds.open_gateway(StorageConfig(e.tmp / "a-directory")),
)
case(
    "open_gateway(a parquet file)",
    NotADatabaseError,
    lambda e: ds.open_gateway(StorageConfig(e.tmp / "not-a-db.parquet")),
)
case(
    "open_gateway(read-only, missing file)",
    NotADatabaseError,
    lambda e: ds.open_gateway(StorageConfig(e.tmp / "missing.duckdb", read_only=True)),
)
case("open_memory_gateway(tables=5)", ArgumentTypeError, lambda e: ds.open_memory_gateway(tables=5))

# --- Column and TableSchema ------------------------------------------------------
for bad_name in (None, 1):
    case(f"Column({bad_name!r}, 'INT')", ArgumentTypeError, lambda e, v=bad_name: Column(v, "INT"))
case("Column('', 'INT')", SchemaError, lambda e: Column("", "INT"))
for bad_type in (None, 5):
    case(f"Column('a', {bad_type!r})", ArgumentTypeError, lambda e, v=bad_type: Column("a", v))
for bad_text in ("", "INTEGER, b VARCHAR", "INT NOT NULL", "nope", "nan"):
    case(f"Column('a', {bad_text!r})", SchemaError, lambda e, v=bad_text: Column("a", v))
case("Column nullable='no'", ArgumentTypeError, lambda e: Column("a", "INT", nullable="no"))  # type: ignore[arg-type]
case("TableSchema('id INT')", ArgumentTypeError, lambda e: TableSchema("id INT"))  # type: ignore[arg-type]
case("TableSchema(())", SchemaError, lambda e: TableSchema(()))
case(
    "TableSchema primary_key='id'",
    ArgumentTypeError,
    lambda e: TableSchema((Column("id", "INT"),), "id"),  # type: ignore[arg-type]
)
case(
    "TableSchema unknown primary key",
    SchemaError,
    lambda e: TableSchema((Column("id", "INT"),), ("nope",)),
)

# --- insert_rows -------------------------------------------------------------------
case("insert_rows dataset=None", ArgumentTypeError, lambda e: ds.insert_rows(e.con, None, []))  # type: ignore[arg-type]
case(
    "insert_rows rows=None",
    ArgumentTypeError,
    lambda e: ds.insert_rows(e.con, e.gateway.dataset("t"), None),  # type: ignore[arg-type]
)
case(
    "insert_rows rows=a dict",
    ArgumentTypeError,
    lambda e: ds.insert_rows(e.con, e.gateway.dataset("t"), {"id": 9, "label": "x"}),  # type: ignore[arg-type]
)
case(
    "insert_rows rows=[5]",
    ArgumentTypeError,
    lambda e: ds.insert_rows(e.con, e.gateway.dataset("t"), [5]),  # type: ignore[list-item]
)
case(
    "insert_rows id=NaN",
    RowValidationError,
    lambda e: ds.insert_rows(e.con, e.gateway.dataset("t"), [{"id": NAN, "label": "x"}]),
)
case(
    "insert_rows id=2**64",
    RowValidationError,
    lambda e: ds.insert_rows(e.con, e.gateway.dataset("t"), [{"id": 2**64, "label": "x"}]),
)
case(
    "insert_rows id=None (NOT NULL)",
    RowValidationError,
    lambda e: ds.insert_rows(e.con, e.gateway.dataset("t"), [{"id": None, "label": "x"}]),
)

# --- install, pack ------------------------------------------------------------------
case("install_macros(None)", ArgumentTypeError, lambda e: ds.install_macros(None))  # type: ignore[arg-type]
for bad_schema in (None, 5):
    case(
        f"install_macros(pack_schema={bad_schema!r})",
        ArgumentTypeError,
        lambda e, v=bad_schema: ds.install_macros(duckdb.connect(), pack_schema=v),
    )
case(
    "install_macros(pack_schema='')",
    InvalidArgumentError,
    lambda e: ds.install_macros(duckdb.connect(), pack_schema=""),
)
case("installed_version(None)", ArgumentTypeError, lambda e: ds.installed_version(None))  # type: ignore[arg-type]
case("pack_script(pack_schema=5)", ArgumentTypeError, lambda e: ds.pack_script(pack_schema=5))  # type: ignore[arg-type]
case("pack_script(pack_schema='')", InvalidArgumentError, lambda e: ds.pack_script(pack_schema=""))

# --- exports ---------------------------------------------------------------------------
EXPORTS = ("export_dataset_to_jsonl", "export_dataset_to_parquet")
for fn_name in EXPORTS:
    fn = getattr(ds, fn_name)
    case(
        f"{fn_name}(name=None)", ArgumentTypeError, lambda e, f=fn: f(e.gateway, None, e.tmp / "o")
    )
    case(
        f"{fn_name}(name='')",
        (InvalidArgumentError, UnknownDatasetError),
        lambda e, f=fn: f(e.gateway, "", e.tmp / "o"),
    )
    case(
        f"{fn_name}(name='nope')",
        UnknownDatasetError,
        lambda e, f=fn: f(e.gateway, "nope", e.tmp / "o"),
    )
    case(f"{fn_name}(output_dir=None)", ArgumentTypeError, lambda e, f=fn: f(e.gateway, "t", None))
    case(f"{fn_name}(output_dir='')", InvalidArgumentError, lambda e, f=fn: f(e.gateway, "t", ""))
    case(
        f"{fn_name}(output_dir=a file)",
        DucksetsError,
        lambda e, f=fn: f(e.gateway, "t", e.tmp / "not-a-db.parquet"),
    )
    case(f"{fn_name}(gateway=None)", ArgumentTypeError, lambda e, f=fn: f(None, "t", e.tmp / "o"))
case(
    "export_datasets(fmt='csv')",
    InvalidArgumentError,
    lambda e: ds.export_datasets(e.gateway, e.tmp / "o", "csv"),  # type: ignore[arg-type]
)
case(
    "export_datasets(fmt=None)",
    ArgumentTypeError,
    lambda e: ds.export_datasets(e.gateway, e.tmp / "o", None),  # type: ignore[arg-type]
)
case(
    "export_all_jsonl(datasets='t')",  # a str is one dataset name, as documented
    OK,
    lambda e: ds.export_all_jsonl(e.gateway, e.tmp / "o", "t"),
)
case(
    "export_all_parquet(datasets=['nope'])",
    UnknownDatasetError,
    lambda e: ds.export_all_parquet(e.gateway, e.tmp / "o", ["nope"]),
)
case(
    "write_dataset_manifest(files=None)",
    ArgumentTypeError,
    lambda e: ds.write_dataset_manifest(e.tmp / "o", None, gateway=e.gateway),  # type: ignore[arg-type]
)


def _catalog_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute("SELECT * FROM metadata.datasets ORDER BY table_key").fetchall()


PARAMS = [pytest.param(*c, id=c[0]) for c in CASES]


@pytest.mark.parametrize(("label", "call", "expected"), PARAMS)
def test_bad_input_gives_one_typed_error(
    env: Env, label: str, call: Call, expected: Expected
) -> None:
    before = (_catalog_rows(env.con), env.con.execute("SELECT count(*) FROM main.t").fetchall())
    if expected is OK:
        call(env)
    else:
        with pytest.raises(DucksetsError) as caught:
            call(env)
        assert isinstance(caught.value, expected), f"{label}: {caught.value!r}"
        assert isinstance(
            caught.value, TypeError | ValueError | LookupError | OSError | RuntimeError
        )
    after = (_catalog_rows(env.con), env.con.execute("SELECT count(*) FROM main.t").fetchall())
    assert after == before, f"{label} changed the database"
