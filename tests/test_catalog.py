"""Writing the catalog: bootstrap, register and unregister, batched and idempotent; drift."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ducksets import install_macros, pack_files
from ducksets._names import fold_name
from ducksets.catalog import (
    bootstrap_metadata_datasets,
    register_dataset,
    unregister_dataset,
)
from ducksets.errors import (
    ArgumentTypeError,
    CatalogMissingError,
    DucksetsError,
    InvalidArgumentError,
    RelationMissingError,
    UnknownDatasetError,
)
from ducksets.filenames import check_dataset_name, check_filename
from ducksets.gateway import Gateway, StorageConfig
from ducksets.keys import TableKey
from ducksets.registry import Dataset, load_dataset_registry
from ducksets.relation import dataset_relation
from ducksets.rows import DatasetQueryService
from ducksets.schema import Column, TableSchema
from ducksets.sqltext import quote_identifier
from ducksets.sync import sync_catalog

if TYPE_CHECKING:
    pass

ITEMS = TableSchema((Column("id", "BIGINT", nullable=False), Column("label", "VARCHAR")), ("id",))


def catalog(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return (
        con.execute("FROM metadata.datasets ORDER BY table_key").fetchall()
        + con.execute("FROM metadata.dataset_columns ORDER BY ALL").fetchall()
    )


def test_roundtrip_on_the_codeintel_catalog(
    codeintel: Any, codeintel_catalog: dict[str, Any]
) -> None:
    con, tables, _ = codeintel
    registry = load_dataset_registry(con, schemas=tables)
    assert len(registry.by_name) == 109
    dataset = registry.dataset_for_name("function_metrics")
    row = con.execute("FROM metadata.datasets WHERE name = 'function_metrics'").fetchone()
    assert row == (
        dataset.table_key,
        dataset.name,
        dataset.is_view,
        dataset.jsonl_filename,
        dataset.parquet_filename,
    )
    assert dataset.table_key == "analytics.function_metrics"
    assert dataset.schema == tables["analytics.function_metrics"]
    assert dict(registry.jsonl_mapping) == codeintel_catalog["jsonl_filenames"]
    assert dict(registry.parquet_mapping) == codeintel_catalog["parquet_filenames"]
    summary = registry.dataset_for_table("docs.v_validation_summary")
    assert (summary.is_view, summary.schema, summary.parquet_filename) == (
        True,
        None,
        "validation_summary.parquet",
    )
    assert con.execute("FROM metadata.catalog_drift()").fetchall() == []


def test_bootstrap_twice_gives_the_identical_catalog(
    codeintel: Any, codeintel_catalog: dict[str, Any]
) -> None:
    con, tables, views = codeintel
    before = catalog(con)
    bootstrap_metadata_datasets(
        con,
        tables=tables,
        views=tuple(views),
        jsonl=codeintel_catalog["jsonl_filenames"],
        parquet=codeintel_catalog["parquet_filenames"],
    )
    assert catalog(con) == before
    assert len(before) == 109 + 1089


def test_bootstrap_updates_in_place(con: duckdb.DuckDBPyConnection) -> None:
    bootstrap_metadata_datasets(con, tables={"core.items": ITEMS}, jsonl={"core.items": "a.jsonl"})
    bootstrap_metadata_datasets(
        con,
        tables={"core.items": ITEMS},
        parquet={"core.items": "b.parquet"},
        names={"core.items": "things"},
    )
    assert con.execute("FROM metadata.datasets").fetchall() == [
        ("core.items", "things", False, None, "b.parquet")
    ]


def test_two_keys_with_one_name_are_refused_naming_both(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(
        DucksetsError, match=r"'items' would belong to both 'core.items' and 'graph.items'"
    ):
        bootstrap_metadata_datasets(con, tables={"core.items": ITEMS, "graph.items": ITEMS})
    assert con.execute("SELECT count(*) FROM metadata.datasets").fetchone() == (0,)
    bootstrap_metadata_datasets(con, tables={"core.items": ITEMS})
    with pytest.raises(DucksetsError, match=r"both 'core.items' and 'graph.items'"):
        bootstrap_metadata_datasets(con, tables={"graph.items": ITEMS})


def test_keys_differing_in_case_are_one_dataset(con: duckdb.DuckDBPyConnection) -> None:
    bootstrap_metadata_datasets(con, tables={"core.items": ITEMS})
    bootstrap_metadata_datasets(con, tables={"CORE.Items": ITEMS}, jsonl={"CORE.Items": "x.jsonl"})
    assert con.execute("SELECT table_key, jsonl_filename FROM metadata.datasets").fetchall() == [
        ("core.items", "x.jsonl")
    ]
    with pytest.raises(DucksetsError, match="name the same relation"):
        bootstrap_metadata_datasets(con, tables={"core.items": ITEMS, "Core.ITEMS": ITEMS})
    registry = load_dataset_registry(con)
    assert registry.dataset_for_table('"CORE"."ITEMS"').name == "items"


@pytest.mark.parametrize(
    "filename", ["../x.jsonl", "/tmp/x.jsonl", "a/b.jsonl", "a\\b.jsonl", "..", "", "C:x"]
)
def test_filenames_must_stay_in_the_output_directory(
    con: duckdb.DuckDBPyConnection, filename: str
) -> None:
    with pytest.raises(DucksetsError, match="not a plain file name"):
        bootstrap_metadata_datasets(
            con, tables={"core.items": ITEMS}, jsonl={"core.items": filename}
        )
    assert con.execute("SELECT count(*) FROM metadata.datasets").fetchone() == (0,)


@pytest.mark.parametrize("name", ["", "a/b", "..", "a\\b"])
def test_names_that_cannot_be_file_names_are_refused(
    con: duckdb.DuckDBPyConnection, name: str
) -> None:
    with pytest.raises(DucksetsError, match="dataset name .* cannot name a file"):
        bootstrap_metadata_datasets(con, tables={"core.items": ITEMS}, names={"core.items": name})


def test_odd_but_plain_filenames_are_fine() -> None:
    assert check_filename("it's; a file.parquet") == "it's; a file.parquet"


def test_drift_missing_table_and_altered_column(codeintel: Any) -> None:
    con, tables, _ = codeintel
    con.execute(
        "INSERT INTO metadata.datasets "
        "VALUES ('analytics.not_there', 'not_there', FALSE, NULL, NULL)"
    )
    con.execute("ALTER TABLE analytics.function_metrics ALTER COLUMN loc TYPE VARCHAR")
    registry = load_dataset_registry(con, schemas=tables)
    assert registry.dataset_for_name("not_there").schema is None
    assert con.execute("FROM metadata.catalog_drift()").fetchall() == [
        ("analytics.not_there", "missing_relation", "no table or view analytics.not_there exists"),
        (
            "analytics.function_metrics",
            "type_mismatch",
            "column loc is declared INTEGER but is VARCHAR",
        ),
    ]


def test_drift_missing_and_unexpected_columns(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA core; CREATE TABLE core.items (id BIGINT NOT NULL, other INT)")
    bootstrap_metadata_datasets(con, tables={"core.items": ITEMS})
    assert con.execute("SELECT drift, detail FROM metadata.catalog_drift()").fetchall() == [
        ("missing_column", "column label (VARCHAR) is declared but the table has no such column"),
        ("unexpected_column", "column other (INTEGER) is in the table but not declared"),
    ]


def test_register_detects_the_kind_and_unregister_removes(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA s; CREATE TABLE s.t (id INT); CREATE VIEW s.v AS SELECT * FROM s.t")
    assert register_dataset(con, "S.V") == '"S"."V"'
    assert register_dataset(con, "s.t", schema=TableSchema((Column("id", "INT"),))) == "s.t"
    registry = load_dataset_registry(con)
    assert registry.dataset_for_name("V").is_view
    assert registry.dataset_for_name("t").schema == TableSchema((Column("id", "INTEGER"),))
    with pytest.raises(DucksetsError, match="no table or view s.nope; create it first"):
        register_dataset(con, "s.nope")
    assert unregister_dataset(con, "t") == "s.t"
    assert con.execute("SELECT count(*) FROM metadata.dataset_columns").fetchone() == (0,)
    with pytest.raises(UnknownDatasetError, match="no dataset 't'"):
        unregister_dataset(con, "t")


def test_bootstrap_of_ten_thousand_is_one_batch(con: duckdb.DuckDBPyConnection) -> None:
    tables = {f"s.t{i}": ITEMS for i in range(10_000)}
    assert len(bootstrap_metadata_datasets(con, tables=tables)) == 10_000
    assert con.execute("SELECT count(*) FROM metadata.dataset_columns").fetchone() == (20_000,)


def test_upgrade_from_pack_0_1_0_keeps_rows_and_adds_columns_table(
    fresh_con: duckdb.DuckDBPyConnection,
) -> None:
    from pathlib import Path

    old_script = Path(__file__).with_name("fixtures") / "pack-0.1.0.sql"
    fresh_con.execute(old_script.read_text(encoding="utf-8"))
    fresh_con.execute(
        "INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, 't.jsonl', NULL)"
    )
    with pytest.raises(CatalogMissingError, match="old pack"):
        load_dataset_registry(fresh_con)
    result = install_macros(fresh_con)
    assert (result.action, result.version_before) == ("upgraded", "0.1.0")
    # Everything the pack makes now that 0.1.0 did not: its tables and macros.
    made_by_0_1_0 = {
        "datasets",
        "pack_info",
        "pack_version",
        "quote_ident",
        "quote_literal",
        "format_ident",
        "table_key_pattern",
        "unquote_ident",
        "split_table_key",
        "quote_table_key",
        "dataset_exists",
        "dataset_rows",
        "dataset_export_sql",
        "catalog_drift",
        "check_no_downgrade",
    }
    made_now = {f.object_name for f in pack_files() if f.kind != "row"} - {None}
    assert "dataset_columns" in made_now - made_by_0_1_0
    assert set(result.created) == made_now - made_by_0_1_0
    registry = load_dataset_registry(fresh_con)
    assert registry.by_name["t"] == Dataset("core.t", "t", None, jsonl_filename="t.jsonl")


# --- names fold as DuckDB folds them: ASCII letters only ----------------------------


def test_names_differing_in_non_ascii_case_are_two_datasets(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute('CREATE SCHEMA s; CREATE TABLE s."Ä" AS SELECT 1 AS x')
    con.execute('CREATE TABLE s."ä" AS SELECT 2 AS x')
    assert register_dataset(con, 's."Ä"', name="upper") == 's."Ä"'
    assert con.execute("FROM metadata.catalog_drift()").fetchall() == [
        (
            's."ä"',
            "unregistered_relation",
            "table in a catalog schema has no row in metadata.datasets",
        )
    ]
    report = sync_catalog(con, ["s"], dry_run=True)
    assert (report.added, report.left) == (('s."ä"',), ('s."Ä"',))
    assert register_dataset(con, 's."ä"', name="lower") == 's."ä"'
    assert con.execute(
        "SELECT table_key, name FROM metadata.datasets ORDER BY name"
    ).fetchall() == [
        ('s."ä"', "lower"),
        ('s."Ä"', "upper"),
    ]
    assert dataset_relation(con, "upper").fetchall() == [(1,)]
    assert dataset_relation(con, "lower").fetchall() == [(2,)]
    assert con.execute("FROM metadata.catalog_drift()").fetchall() == []
    assert sync_catalog(con, ["S"]).left == ('s."Ä"', 's."ä"')


def test_strasse_in_both_cases_is_two_relations(con: duckdb.DuckDBPyConnection) -> None:
    written = bootstrap_metadata_datasets(
        con, tables={"s.straße": ITEMS, "s.STRASSE": ITEMS}, names={"s.STRASSE": "upper"}
    )
    assert written == ('s."straße"', 's."STRASSE"')
    registry = load_dataset_registry(con)
    assert registry.dataset_for_table('s."straße"').name == "straße"
    assert registry.dataset_for_table("s.strasse").name == "upper"


def test_a_pk_column_matches_only_by_ascii_case(con: duckdb.DuckDBPyConnection) -> None:
    schema = TableSchema((Column("Ä", "INT"), Column("ä", "INT"), Column("B", "INT")), ("ä", "b"))
    bootstrap_metadata_datasets(con, tables={"s.t": schema})
    assert con.execute(
        "SELECT column_name, pk_position FROM metadata.dataset_columns ORDER BY ordinal"
    ).fetchall() == [("Ä", None), ("ä", 1), ("B", 2)]


def _query_table_reads_quotes() -> bool:
    # DuckDB 1.2's query_table drops doubled quotes ('s."a""b"' reads s.ab),
    # so dataset_rows cannot read a name holding '"' there; 1.3+ can.
    con = duckdb.connect()
    con.execute('CREATE TABLE "a""b" AS SELECT 1 AS x')
    try:
        return con.execute("""FROM query_table('"a""b"')""").fetchall() == [(1,)]
    except duckdb.Error:
        return False


QUERY_TABLE_READS_QUOTES = _query_table_reads_quotes()


def _is_dataset_name(name: str) -> bool:
    if not name.strip():
        return False  # dataset_relation refuses a blank name
    try:
        check_dataset_name(name)
    except DucksetsError:
        return False
    return True


# Any identifier DuckDB can hold: non-empty, no NUL, no lone surrogate.
_unicode_name = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=6
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(
        st.one_of(_unicode_name, st.sampled_from(["ä", "Ä", "straße", "STRASSE", "ǅ", "ǆ", "Ǆ"])),
        min_size=1,
        max_size=6,
        unique_by=fold_name,
    ).filter(lambda names: all(_is_dataset_name(n) for n in names))
)
def test_every_unicode_name_reads_its_own_rows(names: list[str]) -> None:
    con = duckdb.connect()
    install_macros(con)
    con.execute("CREATE SCHEMA s")
    for marker, name in enumerate(names):
        con.execute(f"CREATE TABLE s.{quote_identifier(name)} AS SELECT {marker} AS marker")
    half = max(1, len(names) // 2)
    for marker, name in enumerate(names[:half]):
        register_dataset(con, str(TableKey(None, "s", name)), name=f"d{marker}")
    assert con.execute(
        "SELECT count(*) FROM metadata.catalog_drift() WHERE drift = 'unregistered_relation'"
    ).fetchone() == (len(names) - half,)
    report = sync_catalog(con, ["s"])
    assert len(report.added) == len(names) - half
    assert report.skipped == ()
    assert con.execute("FROM metadata.catalog_drift()").fetchall() == []
    registry = load_dataset_registry(con)
    service = DatasetQueryService(Gateway(StorageConfig(":memory:"), con))
    mismatches = []
    for marker, name in enumerate(names):
        dataset = registry.dataset_for_table(TableKey(None, "s", name))
        page = service.read_dataset_rows(dataset_name=dataset.name)
        if page.rows != ({"marker": marker},):
            mismatches.append((name, "service", page.rows))
        via_relation = dataset_relation(con, dataset.name).fetchall()
        via_macro = (
            con.execute("FROM metadata.dataset_rows(?)", [dataset.table_key]).fetchall()
            if '"' not in name or QUERY_TABLE_READS_QUOTES
            else via_relation
        )
        if not via_relation == via_macro == [(marker,)]:
            mismatches.append((name, via_relation, via_macro))
    assert mismatches == []
    again = sync_catalog(con, ["s"])
    assert sorted(again.left) == sorted(r.table_key for r in registry.by_name.values())
    assert (again.added, again.skipped) == ((), ())


# --- sync registers what it can and reports the rest ---------------------------------


# --- bad arguments: one typed error naming the parameter ------------------------------


@pytest.mark.parametrize(
    ("call", "error", "parameter"),
    [
        (lambda c: register_dataset(None, "s.t"), ArgumentTypeError, "con"),
        (lambda c: register_dataset(c, "s.t", name=5), ArgumentTypeError, "name"),
        (lambda c: register_dataset(c, "s.t", is_view="yes"), ArgumentTypeError, "is_view"),
        (
            lambda c: register_dataset(c, "s.t", jsonl_filename=5),
            ArgumentTypeError,
            "jsonl_filename",
        ),
        (lambda c: register_dataset(c, "s.t", schema="id INT"), ArgumentTypeError, "schema"),
        (lambda c: register_dataset(c, "s.nope"), RelationMissingError, None),
        (lambda c: load_dataset_registry(None), ArgumentTypeError, "con"),
        (lambda c: load_dataset_registry(c, schemas=5), ArgumentTypeError, "schemas"),
        (lambda c: load_dataset_registry(c, schemas={"s.t": 5}), ArgumentTypeError, "schemas"),
        (lambda c: bootstrap_metadata_datasets(c, tables=None), ArgumentTypeError, "tables"),
        (lambda c: bootstrap_metadata_datasets(c, tables={"s.t": 5}), ArgumentTypeError, "tables"),
        (
            lambda c: bootstrap_metadata_datasets(c, tables={}, views="s.v"),
            ArgumentTypeError,
            "views",
        ),
        (lambda c: bootstrap_metadata_datasets(c, tables={}, names=5), ArgumentTypeError, "names"),
        (lambda c: sync_catalog(c, None), ArgumentTypeError, "schemas"),
        (lambda c: sync_catalog(c, "s"), ArgumentTypeError, "schemas"),
        (lambda c: sync_catalog(c, [5]), ArgumentTypeError, "schemas"),
        (lambda c: sync_catalog(c, ["nope"]), InvalidArgumentError, "schemas"),
        (
            lambda c: bootstrap_metadata_datasets(c, tables={"s.t": ITEMS, "S.T": ITEMS}),
            InvalidArgumentError,
            "tables",
        ),
        (
            lambda c: bootstrap_metadata_datasets(
                c, tables={"s.t": ITEMS, "s.u": ITEMS}, names={"s.u": "t"}
            ),
            InvalidArgumentError,
            "names",
        ),
    ],
)
def test_bad_arguments_give_one_typed_error_and_change_nothing(
    con: duckdb.DuckDBPyConnection, call: Any, error: type[Exception], parameter: str | None
) -> None:
    con.execute("CREATE SCHEMA s; CREATE TABLE s.t (id BIGINT NOT NULL, label VARCHAR)")
    with pytest.raises(error) as caught:
        call(con)
    assert isinstance(caught.value, DucksetsError)
    assert getattr(caught.value, "parameter", None) == parameter
    assert con.execute("SELECT count(*) FROM metadata.datasets").fetchone() == (0,)
