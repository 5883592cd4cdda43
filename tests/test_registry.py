"""The registry: datasets read from the catalog as it is now."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

import ducksets
from ducksets._comments import relation_comments
from ducksets.errors import (
    ArgumentTypeError,
    CatalogMissingError,
    InvalidTableKeyError,
    UnknownDatasetError,
)
from ducksets.gateway import StorageConfig, open_gateway
from ducksets.registry import Dataset, DatasetRegistry, key_or_none, load_dataset_registry
from ducksets.schema import Column, TableSchema
from ducksets.sync import sync_catalog


def test_registry_without_python_schemas_uses_the_stored_declarations(codeintel: Any) -> None:
    con, tables, _ = codeintel
    registry = load_dataset_registry(con)
    assert {k: d.schema for k, d in registry.by_table_key.items() if not d.is_view} == tables


def test_unknown_names_suggest_close_ones(codeintel: Any) -> None:
    registry = load_dataset_registry(codeintel[0])
    with pytest.raises(
        UnknownDatasetError, match="no dataset 'function_metric'; did you mean 'function_metrics'"
    ):
        registry.dataset_for_name("function_metric")
    with pytest.raises(KeyError):
        registry.resolve_table_key("nothing-like-it")


def test_missing_catalog_says_to_install(fresh_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(CatalogMissingError, match="install_macros"):
        load_dataset_registry(fresh_con)


def test_a_row_with_an_invalid_key_is_drift_not_a_crash(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA core; CREATE TABLE core.t (x INT)")
    con.execute(
        "INSERT INTO metadata.datasets VALUES "
        "('core.t', 't', FALSE, NULL, NULL), ('not a key', 'broken', FALSE, NULL, NULL)"
    )
    registry = load_dataset_registry(con)
    assert registry.dataset_for_name("broken").schema is None
    assert registry.dataset_for_table("core.t").name == "t"
    assert [i[1] for i in con.execute("FROM metadata.catalog_drift()").fetchall()] == [
        "invalid_key"
    ]
    report = sync_catalog(con, ["core"])
    assert (report.added, report.left) == ((), ("core.t",))


def _mixed_catalog(con: duckdb.DuckDBPyConnection) -> None:
    """Names whose order differs from their keys' order, and a view sorting before a table."""
    con.execute(
        """
        CREATE SCHEMA core; CREATE SCHEMA docs;
        CREATE TABLE core.a (x INT); CREATE TABLE core.b (x INT);
        CREATE VIEW docs.c AS SELECT 1 AS x;
        INSERT INTO metadata.datasets VALUES
            ('core.a', 'zeta', FALSE, 'a.jsonl', NULL),
            ('core.b', 'beta', FALSE, NULL, 'b.parquet'),
            ('docs.c', 'alpha', TRUE, 'c.jsonl', 'c.parquet');
        """
    )


def test_one_order_everywhere(con: duckdb.DuckDBPyConnection) -> None:
    _mixed_catalog(con)
    registry = load_dataset_registry(con)
    # Keyed or listed by name: name order; keyed by table key: key order.
    assert registry.all_datasets == ("alpha", "beta", "zeta")
    assert list(registry.by_name) == ["alpha", "beta", "zeta"]
    assert list(registry.mapping.items()) == [
        ("alpha", "docs.c"),
        ("beta", "core.b"),
        ("zeta", "core.a"),
    ]
    assert (registry.tables, registry.views) == (("beta", "zeta"), ("alpha",))
    assert list(registry.by_table_key) == ["core.a", "core.b", "docs.c"]
    assert list(registry.jsonl_mapping.items()) == [("core.a", "a.jsonl"), ("docs.c", "c.jsonl")]
    assert list(registry.parquet_mapping.items()) == [
        ("core.b", "b.parquet"),
        ("docs.c", "c.parquet"),
    ]
    assert registry.resolve("beta") == registry.resolve_table_key("beta") == "core.b"
    with pytest.raises(UnknownDatasetError) as caught:
        registry.resolve("zet")
    assert caught.value.suggestions == ("zeta",)


def test_deprecated_names_warn_and_give_what_they_gave(con: duckdb.DuckDBPyConnection) -> None:
    _mixed_catalog(con)
    registry = load_dataset_registry(con)
    with pytest.warns(DeprecationWarning, match="use DatasetRegistry.jsonl_mapping"):
        assert dict(registry.jsonl_datasets) == {"core.a": "a.jsonl", "docs.c": "c.jsonl"}
    with pytest.warns(DeprecationWarning, match="use DatasetRegistry.parquet_mapping"):
        assert dict(registry.parquet_datasets) == {"core.b": "b.parquet", "docs.c": "c.parquet"}
    with pytest.warns(DeprecationWarning, match="use DatasetRegistry.by_name"):
        assert registry.meta is registry.by_name
    with pytest.warns(DeprecationWarning, match="DatasetRegistry"):
        assert registry.registry is registry
    with pytest.warns(DeprecationWarning, match=r"ducksets\.GatewayDatasets .*DatasetRegistry"):
        from ducksets import GatewayDatasets
    with pytest.warns(DeprecationWarning, match=r"ducksets\.gateway\.GatewayDatasets"):
        from ducksets.gateway import GatewayDatasets as FromGateway
    assert GatewayDatasets is FromGateway is DatasetRegistry
    with pytest.warns(DeprecationWarning, match="from_registry"):
        assert GatewayDatasets.from_registry(registry) is registry
    with pytest.raises(AttributeError, match="NoSuchThing"):
        ducksets.NoSuchThing  # noqa: B018


def test_the_gateway_view_keeps_its_values(db_path: Path) -> None:
    config = StorageConfig(
        db_path,
        tables={"core.a": TableSchema((Column("x", "INTEGER"),))},
        views={"docs.c": "SELECT 1 AS x"},
        names={"core.a": "zeta", "docs.c": "alpha"},
        jsonl={"core.a": "a.jsonl"},
    )
    with open_gateway(config) as gateway:
        datasets = gateway.datasets
        assert isinstance(datasets, DatasetRegistry)
        assert gateway.refresh() == datasets
        # What GatewayDatasets gave, attribute by attribute (all_datasets was
        # tables then views; it is name order now, like the registry's).
        assert dict(datasets.mapping) == {"zeta": "core.a", "alpha": "docs.c"}
        assert (datasets.tables, datasets.views) == (("zeta",), ("alpha",))
        assert dict(datasets.jsonl_mapping) == {"core.a": "a.jsonl"}
        assert dict(datasets.parquet_mapping) == {}
        assert datasets.resolve("alpha") == "docs.c"
        assert datasets.all_datasets == ("alpha", "zeta")
        with pytest.warns(DeprecationWarning):
            assert dict(datasets.meta) == dict(datasets.by_name)
        assert gateway.dataset("zeta").table_key == "core.a"


def test_declared_schemas_match_keys_spelled_otherwise(con: duckdb.DuckDBPyConnection) -> None:
    # Catalog keys are matched as DuckDB compares names, with or without quotes;
    # an invalid catalog key ('select.t' needs quotes) matches nothing.
    con.execute(
        """
        INSERT INTO metadata.datasets VALUES
            ('CORE."Items"', 'items', FALSE, NULL, NULL),
            ('core.other', 'other', FALSE, NULL, NULL),
            ('select.t', 'bad', FALSE, NULL, NULL),
            ('"select".u', 'quoted', FALSE, NULL, NULL)
        """
    )
    one = TableSchema((Column("x", "INTEGER"),))
    two = TableSchema((Column("y", "VARCHAR"),))
    declared = {'"core"."ITEMS"': one, "core.OTHER": two, '"select".t': one, "select_.u": two}
    registry = load_dataset_registry(con, schemas=declared)
    assert {n: d.schema for n, d in registry.by_name.items()} == {
        "bad": None,
        "items": one,
        "other": two,
        "quoted": None,
    }


def test_lookups_by_key_compare_as_duckdb(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        INSERT INTO metadata.datasets VALUES
            ('CORE."Items"', 'items', FALSE, NULL, NULL),
            ('core.plain', 'plain', FALSE, NULL, NULL),
            ('"a.b".c', 'dotted', FALSE, NULL, NULL),
            ('a.b.c', 'three', FALSE, NULL, NULL),
            ('select.t', 'bad', FALSE, NULL, NULL)
        """
    )
    registry = load_dataset_registry(con)
    assert registry.dataset_for_table("core.items").name == "items"
    assert registry.dataset_for_table('"CORE"."PLAIN"').name == "plain"
    assert registry.dataset_for_table('"a.b".C').name == "dotted"
    assert registry.dataset_for_table("A.b.c").name == "three"
    with pytest.raises(UnknownDatasetError, match="no table key 'core.item'"):
        registry.dataset_for_table("core.item")
    with pytest.raises(UnknownDatasetError):
        registry.dataset_for_table('"select".t')  # the catalog's 'select.t' is not a key


def test_an_invalid_declared_key_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    schema = TableSchema((Column("x", "INTEGER"),))
    with pytest.raises(InvalidTableKeyError) as raised:
        load_dataset_registry(con, schemas={"core.t": schema, "no key": schema})
    assert raised.value.key == "no key"


# A fresh interpreter runs ``ducksets datasets DB`` (cli.main) with duckdb.connect
# counted, then says which modules it imported.
_CLI_PROCESS = """
import json, sys
import duckdb
opened = []
real_connect = duckdb.connect
def counted_connect(*args, **kwargs):
    opened.append(str(args[0]) if args else ":memory:")
    return real_connect(*args, **kwargs)
duckdb.connect = counted_connect
import ducksets
imported_by_package = sorted(m for m in sys.modules if m.split(".")[0] == "sqlglot")
from ducksets.cli import main
code = main(["datasets", sys.argv[1], "--format", "json"])
imported = sorted(m for m in sys.modules if m.split(".")[0] == "sqlglot")
print(json.dumps({"code": code, "package": imported_by_package, "cli": imported, "opened": opened}))
"""


def test_the_datasets_verb_imports_no_sqlglot_and_opens_only_the_database(tmp_path: Path) -> None:
    # sqlglot takes longer to import than the verb takes to run, and DuckDB's
    # keywords are read through the open connection, not a second database.
    db = tmp_path / "catalog.duckdb"
    declared = TableSchema(
        (
            Column("id", "BIGINT", nullable=False),
            Column("price", "DECIMAL(18,3)"),
            Column("tags", "VARCHAR[]"),
            Column("point", "STRUCT(x DOUBLE, y DOUBLE)"),
            Column("attrs", "MAP(VARCHAR, INTEGER)"),
        ),
        ("id",),
    )
    config = StorageConfig(
        db, tables={"core.items": declared}, views={"core.cheap": "SELECT id FROM core.items"}
    )
    open_gateway(config).close()
    completed = subprocess.run(
        [sys.executable, "-c", _CLI_PROCESS, str(db)], capture_output=True, text=True, check=True
    )
    result = json.loads(completed.stdout.splitlines()[-1])
    assert result["code"] == 0
    assert result["package"] == [], "import ducksets imports sqlglot"
    assert result["cli"] == [], "ducksets datasets DB imports sqlglot"
    assert result["opened"] == [str(db)]
    listed = json.loads("\n".join(completed.stdout.splitlines()[:-1]))
    assert [d["table_key"] for d in listed] == ["core.cheap", "core.items"]


_PACKAGE_PROCESS = """
import json, sys, warnings
import ducksets
loaded = sorted(m for m in sys.modules if m.startswith("ducksets.") or m == "duckdb")
listed = dir(ducksets)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # GatewayDatasets warns when used
    exec("from ducksets import *")
    resolved = {name: type(getattr(ducksets, name)).__name__ for name in ducksets.__all__}
print(json.dumps({"loaded": loaded, "listed": listed, "resolved": resolved}))
"""


def test_import_ducksets_loads_nothing_until_a_name_is_used() -> None:
    # Public names are imported on first use: ``import ducksets`` costs neither
    # DuckDB nor any module of the package, and every name of __all__ resolves.
    completed = subprocess.run(
        [sys.executable, "-c", _PACKAGE_PROCESS], capture_output=True, text=True, check=True
    )
    result = json.loads(completed.stdout)
    assert result["loaded"] == []
    assert set(ducksets.__all__) <= set(result["listed"])
    assert sorted(result["resolved"]) == sorted(ducksets.__all__)
    assert result["resolved"]["__version__"] == "str"
    assert result["resolved"]["install_macros"] == "function"
    assert result["resolved"]["GatewayDatasets"] == "type"
    from ducksets import __version__, install_macros  # noqa: F401

    assert ducksets.install_macros is install_macros
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        ducksets.nothing_here  # noqa: B018


def test_datasets_carry_their_relations_comments(con: duckdb.DuckDBPyConnection) -> None:
    # Keys spelled every way a catalog may hold them; the registry's
    # descriptions are what relation_comments (introspect's rule) finds per key.
    con.execute("ATTACH ':memory:' AS other")
    for statement in (
        "CREATE SCHEMA core",
        'CREATE TABLE core."Items" (id INTEGER, "Odd col" VARCHAR)',
        'CREATE TABLE core."a.b" (x INTEGER)',
        "CREATE VIEW core.v AS SELECT 1 AS x",
        "CREATE TABLE core.plain (x INTEGER)",
        "CREATE TABLE other.main.t (x INTEGER)",
        "COMMENT ON TABLE core.\"Items\" IS 'items'",
        'COMMENT ON COLUMN core."Items"."Odd col" IS \'odd\'',
        "COMMENT ON TABLE core.\"a.b\" IS 'dotted'",
        "COMMENT ON COLUMN core.v.x IS 'view column'",
        "COMMENT ON TABLE other.main.t IS 'elsewhere'",
    ):
        con.execute(statement)
    con.execute(
        """
        INSERT INTO metadata.datasets VALUES
            ('CORE."ITEMS"', 'items', FALSE, NULL, NULL),
            ('core.ITEMS', 'items_bare', FALSE, NULL, NULL),
            ('core."a.b"', 'dotted', FALSE, NULL, NULL),
            ('core.a.b', 'not_dotted', FALSE, NULL, NULL),
            ('core.v', 'v', TRUE, NULL, NULL),
            ('core.plain', 'plain', FALSE, NULL, NULL),
            ('other.main.t', 'other_t', FALSE, NULL, NULL),
            ('other.t', 'not_other_t', FALSE, NULL, NULL),
            ('memory.core.items', 'three_part', FALSE, NULL, NULL),
            ('select.t', 'bad', FALSE, NULL, NULL)
        """
    )
    registry = load_dataset_registry(con)
    described = {
        n: (d.description, dict(d.column_descriptions)) for n, d in registry.by_name.items()
    }
    assert described == {
        "items": ("items", {"Odd col": "odd"}),
        "items_bare": ("items", {"Odd col": "odd"}),
        "dotted": ("dotted", {}),
        "not_dotted": (None, {}),
        "v": (None, {"x": "view column"}),
        "plain": (None, {}),
        "other_t": ("elsewhere", {}),
        "not_other_t": (None, {}),
        "three_part": ("items", {"Odd col": "odd"}),
        "bad": (None, {}),
    }
    keys = {n: key_or_none(d.table_key) for n, d in registry.by_name.items()}
    found = relation_comments(con, [k for k in keys.values() if k is not None])
    for name, key in keys.items():
        expected = (None, {}) if key is None else (found[key].table, dict(found[key].columns))
        assert described[name] == expected, name
    # The pack's own tables are commented too, but name no dataset here.
    assert "metadata.datasets" not in registry.by_table_key
    without = load_dataset_registry(con, descriptions=False)
    assert all(
        d.description is None and not d.column_descriptions for d in without.by_name.values()
    )
    with pytest.raises(ArgumentTypeError, match="descriptions must be True or False"):
        load_dataset_registry(con, descriptions="yes")  # type: ignore[arg-type]


def test_datasets_read_from_the_catalog_equal_constructed_ones(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # The registry builds datasets without Dataset's __init__ (speed); they
    # must be the same values, with the same defaults, hash and repr.
    con.execute("INSERT INTO metadata.datasets VALUES ('core.t', 't', TRUE, 't.jsonl', NULL)")
    read = load_dataset_registry(con).dataset_for_name("t")
    made = Dataset("core.t", "t", None, None, "t.jsonl", None, True)
    assert read == made and hash(read) == hash(made) and repr(read) == repr(made)
    assert read.description is None and read.column_descriptions == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.name = "u"  # type: ignore[misc]
    assert dataclasses.replace(read, description="d").description == "d"
