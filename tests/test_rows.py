"""DatasetQueryService: paged reads with clamping, messages and a stable order."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ducksets import (
    Column,
    DatasetUnreadableError,
    Gateway,
    RelationMissingError,
    StorageConfig,
    TableSchema,
    UnknownDatasetError,
    dataset_relation,
    install_macros,
    open_memory_gateway,
    register_dataset,
)
from ducksets.errors import GatewayClosedError
from ducksets.rows import (
    MAX_OFFSET,
    BackendLimits,
    DatasetQueryService,
    DatasetRowsResponse,
    Message,
)

if TYPE_CHECKING:
    from conftest import CodeintelBuilder

GOIDS = TableSchema((Column("goid", "INTEGER", nullable=False), Column("label", "VARCHAR")))


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """25 goids (0..24, label NULL for multiples of 10), an even-goid view and an empty table."""
    with open_memory_gateway(
        tables={"core.goids": GOIDS, "core.empty": GOIDS},
        views={"docs.v_even": "SELECT goid, label FROM core.goids WHERE goid % 2 = 0"},
    ) as opened:
        opened.con.execute(
            "INSERT INTO core.goids SELECT range, CASE WHEN range % 10 <> 0 THEN 'g' || range END "
            "FROM range(25)"
        )
        yield opened


def service(gateway: Gateway, max_rows: int = 100) -> DatasetQueryService:
    return DatasetQueryService(gateway, limits=BackendLimits(max_rows_per_call=max_rows))


def codes(response: DatasetRowsResponse) -> list[str]:
    return [m.code for m in response.meta.messages]


def test_tables_page_in_insertion_order_and_views_sorted(gateway: Gateway) -> None:
    gateway.con.execute("CREATE TABLE core.backwards AS SELECT range AS n FROM range(9, -1, -1)")
    gateway.con.execute("CREATE VIEW docs.v_backwards AS SELECT n FROM core.backwards")
    for key in ("core.backwards", "docs.v_backwards"):
        register_dataset(gateway.con, key)
    gateway.refresh()
    read = service(gateway).read_dataset_rows
    assert [r["n"] for r in read(dataset_name="backwards", limit=3, offset=2).rows] == [7, 6, 5]
    assert [r["n"] for r in read(dataset_name="v_backwards", limit=3, offset=2).rows] == [2, 3, 4]
    gateway.con.execute("SET preserve_insertion_order = false")
    # Without insertion order a plain scan promises nothing, so tables are sorted too.
    assert [r["n"] for r in read(dataset_name="backwards", limit=3, offset=2).rows] == [2, 3, 4]


def test_a_page_is_dicts_in_order(gateway: Gateway) -> None:
    page = service(gateway).read_dataset_rows(dataset_name="goids", limit=3, offset=9)
    assert page.rows == (
        {"goid": 9, "label": "g9"},
        {"goid": 10, "label": None},
        {"goid": 11, "label": "g11"},
    )
    assert (page.dataset, page.limit, page.offset) == ("goids", 3, 9)
    assert page.columns == ("goid", "label")
    assert page.meta.messages == ()
    assert page.meta.truncated
    assert page.next_offset == 12


def test_values_keep_their_python_types(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE SCHEMA s;
        CREATE TABLE s.typed AS SELECT
            12345678901234567890::DECIMAL(38, 0) AS h128, TIMESTAMP '2026-01-02 03:04:05' AS at,
            [1, 2] AS ids, {'k': 'v'} AS meta, NULL::DOUBLE AS missing, TRUE AS flag
        """
    )
    register_dataset(con, "s.typed")
    page = DatasetQueryService(Gateway(StorageConfig(), con)).read_dataset_rows(
        dataset_name="typed"
    )
    assert page.rows == (
        {
            "h128": Decimal(12345678901234567890),
            "at": dt.datetime(2026, 1, 2, 3, 4, 5),
            "ids": [1, 2],
            "meta": {"k": "v"},
            "missing": None,
            "flag": True,
        },
    )


def test_limit_above_the_maximum_is_clamped(gateway: Gateway) -> None:
    page = service(gateway, max_rows=4).read_dataset_rows(dataset_name="goids", limit=50)
    assert [r["goid"] for r in page.rows] == [0, 1, 2, 3]
    assert (page.meta.requested_limit, page.meta.applied_limit, page.limit) == (50, 4, 4)
    assert page.meta.messages == (
        Message(
            "limit_clamped",
            "warning",
            "limit 50 is above the maximum 4; using 4",
            {"requested": 50, "applied": 4, "maximum": 4},
        ),
    )
    assert page.meta.truncated


def test_limit_at_the_maximum_is_not_clamped(gateway: Gateway) -> None:
    page = service(gateway, max_rows=4).read_dataset_rows(dataset_name="goids", limit=4)
    assert page.meta.messages == ()


def test_negative_limit_and_offset_are_clamped_to_zero(gateway: Gateway) -> None:
    page = service(gateway).read_dataset_rows(dataset_name="goids", limit=-5, offset=-1)
    meta = page.meta
    assert (meta.requested_limit, meta.applied_limit) == (-5, 0)
    assert (meta.requested_offset, meta.applied_offset) == (-1, 0)
    assert page.rows == ()
    assert codes(page) == ["limit_clamped", "offset_clamped", "dataset_empty"]
    assert meta.messages[0].detail == "limit -5 is negative; using 0"
    assert meta.messages[1].detail == "offset -1 is negative; using 0"
    # Nothing was returned, but the dataset goes on: limit 0 is not the end of the data.
    assert meta.truncated
    assert meta.messages[2].context["more_rows"] is True
    assert "limit 0 asks for no rows" in meta.messages[2].detail


def test_negative_offset_alone(gateway: Gateway) -> None:
    page = service(gateway).read_dataset_rows(dataset_name="goids", limit=2, offset=-3)
    assert [r["goid"] for r in page.rows] == [0, 1]
    assert codes(page) == ["offset_clamped"]


def test_offset_beyond_bigint_is_clamped(gateway: Gateway) -> None:
    page = service(gateway).read_dataset_rows(dataset_name="goids", limit=5, offset=2**70)
    assert page.offset == MAX_OFFSET
    assert codes(page) == ["offset_clamped", "dataset_empty"]


def test_unknown_dataset_suggests_close_names(gateway: Gateway) -> None:
    with pytest.raises(UnknownDatasetError) as raised:
        service(gateway).read_dataset_rows(dataset_name="goid")
    assert str(raised.value) == "no dataset 'goid'; did you mean 'goids'?"
    assert isinstance(raised.value, KeyError)


def test_unknown_dataset_without_close_names(gateway: Gateway) -> None:
    with pytest.raises(UnknownDatasetError, match="no dataset 'zzz'; list them with"):
        service(gateway).read_dataset_rows(dataset_name="zzz")


def test_views_read_like_tables(gateway: Gateway) -> None:
    page = service(gateway).read_dataset_rows(dataset_name="v_even", limit=3, offset=1)
    assert page.rows == (
        {"goid": 2, "label": "g2"},
        {"goid": 4, "label": "g4"},
        {"goid": 6, "label": "g6"},
    )


def test_empty_dataset_has_a_message(gateway: Gateway) -> None:
    page = service(gateway).read_dataset_rows(dataset_name="empty")
    assert page.rows == ()
    assert page.columns == ("goid", "label")
    assert not page.meta.truncated
    assert page.next_offset is None
    (message,) = page.meta.messages
    assert (message.code, message.severity) == ("dataset_empty", "info")
    assert message.detail == "dataset 'empty' has no rows"


def test_offset_past_the_end_is_an_empty_page(gateway: Gateway) -> None:
    page = service(gateway).read_dataset_rows(dataset_name="goids", limit=5, offset=25)
    assert page.rows == ()
    assert (
        page.meta.messages[0].detail == "dataset 'goids' has no rows at offset 25 (it ends before)"
    )


@pytest.mark.parametrize(
    ("limit", "offset", "count", "truncated"),
    [
        (10, 0, 10, True),
        (10, 10, 10, True),
        (10, 20, 5, False),  # a short last page
        (5, 20, 5, False),  # a full last page: nothing follows, so not truncated
        (4, 20, 4, True),
        (10, 24, 1, False),
    ],
)
def test_truncated_means_more_rows_follow(
    gateway: Gateway, limit: int, offset: int, count: int, truncated: bool
) -> None:
    page = service(gateway).read_dataset_rows(dataset_name="goids", limit=limit, offset=offset)
    assert len(page.rows) == count
    assert page.meta.truncated is truncated
    assert page.next_offset == (offset + count if truncated else None)


def test_a_relation_dropped_behind_the_catalog(gateway: Gateway) -> None:
    gateway.con.execute("DROP TABLE core.empty")
    with pytest.raises(RelationMissingError, match=r"registered as core\.empty, but no table") as e:
        service(gateway).read_dataset_rows(dataset_name="empty")
    assert (e.value.dataset, e.value.table_key) == ("empty", "core.empty")


def test_pack_in_another_schema(fresh_con: duckdb.DuckDBPyConnection) -> None:
    install_macros(fresh_con, pack_schema="my pack")
    fresh_con.execute("CREATE TABLE main.t AS SELECT 1 AS x")
    register_dataset(fresh_con, "main.t", pack_schema="my pack")
    gateway = Gateway(StorageConfig(pack_schema="my pack"), fresh_con)
    assert DatasetQueryService(gateway).read_dataset_rows(dataset_name="t").rows == ({"x": 1},)


def test_reprs(gateway: Gateway) -> None:
    page = service(gateway, max_rows=2).read_dataset_rows(dataset_name="goids", limit=3, offset=9)
    text = (
        "<DatasetRowsResponse 'goids': rows 9-10 (limit 2), more follow; messages: limit_clamped>"
    )
    assert repr(page) == text
    html = page._repr_html_()
    assert html.startswith("<table><caption>DatasetRowsResponse &#x27;goids&#x27;: rows 9-10")
    assert "<th>goid</th><th>label</th>" in html
    assert "<td>10</td><td><i>NULL</i></td>" in html
    empty = service(gateway).read_dataset_rows(dataset_name="empty")
    assert repr(empty) == (
        "<DatasetRowsResponse 'empty': no rows at offset 0 (limit 100); messages: dataset_empty>"
    )
    assert "<th>goid</th>" in empty._repr_html_()


# Paging property: for any relation and page size, the pages together are the
# relation as a multiset, and every read gives the same order.


def read_all(query: DatasetQueryService, name: str, page_size: int) -> list[tuple[Any, ...]]:
    """Every row of ``name``, page by page until a page is not truncated."""
    rows: list[tuple[Any, ...]] = []
    offset: int | None = 0
    while offset is not None:
        page = query.read_dataset_rows(dataset_name=name, limit=page_size, offset=offset)
        assert len(page.rows) <= page_size
        rows += [tuple(row.values()) for row in page.rows]
        offset = page.next_offset
    return rows


def relation_rows(con: duckdb.DuckDBPyConnection, table_key: str) -> list[tuple[Any, ...]]:
    return con.execute(f"SELECT * FROM {table_key}").fetchall()


SMALL_INT = st.one_of(st.none(), st.integers(-3, 3))
SHORT_TEXT = st.one_of(st.none(), st.sampled_from(["", "a", "A", "b", "ünï"]))
VIEWS = {
    "s.v_copy": "SELECT * FROM s.t",
    # Duplicate rows on purpose: every row of t twice.
    "s.v_twice": "SELECT t.a, t.b FROM s.t AS t UNION ALL SELECT t.a, t.b FROM s.t AS t",
    # A join and an aggregate whose output has duplicate rows (b is not the group key).
    "s.v_join_agg": """
        SELECT t.b, count(*) AS matches, sum(u.w) AS weight
        FROM s.t AS t
        JOIN s.u AS u ON u.a = t.a
        GROUP BY t.a, t.b, u.w % 2""",
}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    t_rows=st.lists(st.tuples(SMALL_INT, SHORT_TEXT), max_size=40),
    u_rows=st.lists(st.tuples(SMALL_INT, st.integers(0, 5)), max_size=20),
    view=st.sampled_from(sorted(VIEWS)),
    page_size=st.integers(1, 12),
)
def test_pages_together_are_the_relation(
    con: duckdb.DuckDBPyConnection,
    t_rows: list[tuple[int | None, str | None]],
    u_rows: list[tuple[int | None, int]],
    view: str,
    page_size: int,
) -> None:
    con.execute("SET threads = 2")
    con.execute("DROP SCHEMA IF EXISTS s CASCADE; CREATE SCHEMA s")
    con.execute("DELETE FROM metadata.datasets")
    con.execute("CREATE TABLE s.t (a INTEGER, b VARCHAR)")
    con.execute("CREATE TABLE s.u (a INTEGER, w INTEGER)")
    if t_rows:
        con.executemany("INSERT INTO s.t VALUES (?, ?)", t_rows)
    if u_rows:
        con.executemany("INSERT INTO s.u VALUES (?, ?)", u_rows)
    con.execute(f"CREATE VIEW {view} AS {VIEWS[view]}")
    register_dataset(con, "s.t", name="t")
    register_dataset(con, view, name="v")
    query = DatasetQueryService(
        Gateway(StorageConfig(), con), limits=BackendLimits(max_rows_per_call=page_size)
    )
    for name, key in (("t", "s.t"), ("v", view)):
        paged = read_all(query, name, page_size)
        assert Counter(paged) == Counter(relation_rows(con, key))
        assert len(paged) == len(relation_rows(con, key))
        assert read_all(query, name, page_size) == paged


def test_a_parallel_aggregate_pages_consistently(con: duckdb.DuckDBPyConnection) -> None:
    """Big enough for a parallel hash aggregate, whose output order varies between runs."""
    con.execute("SET threads = 2")
    con.execute(
        """
        CREATE SCHEMA s;
        CREATE TABLE s.calls AS
            SELECT range % 50000 AS caller, range % 7 AS kind FROM range(300000);
        CREATE TABLE s.funcs AS SELECT range AS goid, range % 3 AS lang FROM range(50000);
        CREATE VIEW s.per_caller AS
            SELECT f.lang, c.kind, count(*) AS calls
            FROM s.calls AS c JOIN s.funcs AS f ON f.goid = c.caller
            GROUP BY c.caller, f.lang, c.kind
        """
    )
    register_dataset(con, "s.per_caller")
    query = DatasetQueryService(
        Gateway(StorageConfig(), con), limits=BackendLimits(max_rows_per_call=20000)
    )
    first = read_all(query, "per_caller", 20000)
    assert Counter(first) == Counter(relation_rows(con, "s.per_caller"))
    assert read_all(query, "per_caller", 20000) == first
    assert first == sorted(first)


def test_every_codeintel_dataset_pages_completely(
    fresh_con: duckdb.DuckDBPyConnection,
    codeintel_catalog: dict[str, Any],
    bootstrap_codeintel: CodeintelBuilder,
) -> None:
    install_macros(fresh_con)
    tables, _ = bootstrap_codeintel(fresh_con, rows_per_table=7)
    gateway = Gateway(StorageConfig(tables=tables), fresh_con)
    query = DatasetQueryService(gateway, limits=BackendLimits(max_rows_per_call=3))
    names = gateway.datasets.all_datasets
    assert len(names) == len(codeintel_catalog["tables"]) + len(codeintel_catalog["views"])
    for name in names:
        key = gateway.datasets.mapping[name]
        paged = read_all(query, name, 3)
        assert Counter(paged) == Counter(relation_rows(fresh_con, key)), name
        assert len(paged) == (7 if name in gateway.datasets.tables else len(paged)), name


def test_a_closed_gateway_is_one_typed_error() -> None:
    gateway = open_memory_gateway(views={"main.nums": "SELECT range AS n FROM range(5)"})
    service = DatasetQueryService(gateway)
    gateway.close()
    with pytest.raises(GatewayClosedError, match="closed; open a new one"):
        service.read_dataset_rows(dataset_name="nums")


def test_a_view_that_cannot_bind_is_one_error_naming_the_dataset() -> None:
    gateway = open_memory_gateway(tables={"main.base": TableSchema((Column("a", "INTEGER"),))})
    gateway.con.execute("CREATE VIEW main.broken AS SELECT * FROM main.base")
    register_dataset(gateway.con, "main.broken")
    gateway.con.execute("DROP TABLE main.base")
    service = DatasetQueryService(gateway)
    with pytest.raises(DatasetUnreadableError, match="'broken' \\(main.broken\\)") as caught:
        service.read_dataset_rows(dataset_name="broken")
    assert (caught.value.dataset, caught.value.table_key) == ("broken", "main.broken")
    with pytest.raises(DatasetUnreadableError, match="cannot be read"):
        dataset_relation(gateway.con, "broken")
    gateway.close()


def test_a_table_replaced_by_a_view_after_opening_is_paged_as_a_view(gateway: Gateway) -> None:
    # The registry still says table; the read finds the view and sorts it.
    gateway.con.execute("DROP TABLE core.empty")
    gateway.con.execute("CREATE VIEW core.empty AS FROM (VALUES (3, 'c'), (1, 'a'), (2, 'b'))")
    page = service(gateway).read_dataset_rows(dataset_name="empty", limit=2, offset=1)
    assert [row["col0"] for row in page.rows] == [2, 3]


def test_without_insertion_order_a_table_is_sorted(gateway: Gateway) -> None:
    gateway.con.execute("CREATE TABLE core.shuffled AS FROM (VALUES (3), (1), (2)) AS t(x)")
    register_dataset(gateway.con, "core.shuffled")
    gateway.refresh()
    assert service(gateway).read_dataset_rows(dataset_name="shuffled").rows == (
        {"x": 3},
        {"x": 1},
        {"x": 2},
    )
    gateway.con.execute("SET GLOBAL preserve_insertion_order = false")
    page = service(gateway).read_dataset_rows(dataset_name="shuffled", limit=2, offset=1)
    assert page.rows == ({"x": 2}, {"x": 3})
    assert page.columns == ("x",)


def test_a_page_of_a_table_has_only_its_columns(gateway: Gateway) -> None:
    page = service(gateway).read_dataset_rows(dataset_name="goids", limit=1)
    assert page.columns == ("goid", "label")
    assert page.rows == ({"goid": 0, "label": None},)


def test_after_pointing_a_name_elsewhere_refresh_reads_the_new_table(gateway: Gateway) -> None:
    gateway.con.execute("CREATE TABLE core.other AS SELECT 7 AS goid, 'seven' AS label")
    gateway.con.execute("DELETE FROM metadata.datasets WHERE name = 'goids'")
    gateway.con.execute(
        "INSERT INTO metadata.datasets VALUES ('core.other', 'goids', FALSE, NULL, NULL)"
    )
    gateway.refresh()
    page = service(gateway).read_dataset_rows(dataset_name="goids")
    assert page.rows == ({"goid": 7, "label": "seven"},)


def test_every_page_reads_the_table_the_catalog_names_now(gateway: Gateway) -> None:
    """The registry is a snapshot; the catalog is the truth for every page, without refresh()."""
    query = service(gateway)
    assert query.read_dataset_rows(dataset_name="goids", limit=1).rows  # the registry's table
    gateway.con.execute("CREATE TABLE core.other AS SELECT 7 AS goid, 'seven' AS label")
    gateway.con.execute("UPDATE metadata.datasets SET name = 'old_goids' WHERE name = 'goids'")
    gateway.con.execute(
        "INSERT INTO metadata.datasets VALUES ('core.other', 'goids', FALSE, NULL, NULL)"
    )
    assert query.read_dataset_rows(dataset_name="goids").rows == ({"goid": 7, "label": "seven"},)
    gateway.con.execute("DELETE FROM metadata.datasets WHERE name = 'goids'")
    with pytest.raises(UnknownDatasetError):
        query.read_dataset_rows(dataset_name="goids", offset=10**6)  # an empty page too


def test_names_with_double_quotes_read_their_own_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Every path reads the named relation: DuckDB 1.2's query_table read s."a""b" as s.ab."""
    con.execute(
        """
        CREATE SCHEMA s;
        CREATE TABLE s."a""b" AS SELECT 'quoted table' AS what;
        CREATE TABLE s.ab AS SELECT 'plain table' AS what;
        CREATE VIEW s."v""w" AS SELECT 'quoted view' AS what;
        CREATE VIEW s.vw AS SELECT 'plain view' AS what;
        """
    )
    register_dataset(con, 's."v""w"', name="quoted_view")
    gateway = Gateway(StorageConfig(), con)
    # Registered after the gateway opened: read from the catalog as it is now.
    register_dataset(con, 's."a""b"', name="quoted_table")
    query = DatasetQueryService(gateway)
    for name, what in (("quoted_table", "quoted table"), ("quoted_view", "quoted view")):
        assert query.read_dataset_rows(dataset_name=name).rows == ({"what": what},), name
    con.execute("SET preserve_insertion_order = false")  # tables are sorted too then
    gateway.refresh()
    assert query.read_dataset_rows(dataset_name="quoted_table").rows == ({"what": "quoted table"},)


def test_a_table_page_is_the_scan_in_order_at_any_depth(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's one statement (page, catalog keys, setting) keeps the scan's order and rows.

    Several row groups and two threads: the page is a derived table crossed
    with the catalog's one row, so a plan that let the page's rows through out
    of order, or that repeated or dropped them, would differ from the bare scan.
    Every page here is served by that statement, not by the checked path.
    """

    def checked_path(*args: object) -> None:
        raise AssertionError("a registered table's page took the checked path")

    monkeypatch.setattr(DatasetQueryService, "_checked_page", checked_path)
    con.execute("SET threads = 2")
    con.execute(
        "CREATE TABLE main.wide AS SELECT hash(range) % 1000 AS k, range AS id FROM range(300000)"
    )
    register_dataset(con, "main.wide")
    query = DatasetQueryService(Gateway(StorageConfig(), con))
    for offset in (0, 122_800, 245_700, 299_950):
        page = query.read_dataset_rows(dataset_name="wide", limit=200, offset=offset)
        bare = con.execute("SELECT * FROM main.wide LIMIT 200 OFFSET ?", [offset]).fetchall()
        assert [(row["k"], row["id"]) for row in page.rows] == bare, offset
        assert page.meta.truncated == (offset + 200 < 300_000)


def test_columns_named_like_the_page_statement_keep_their_names(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """A table's own ``rowid`` and names the statement uses come back as the table has them."""
    con.execute(
        'CREATE TABLE main.odd AS SELECT 5 AS "rowid", 6 AS table_keys, 7 AS ducksets_page, '
        "8 AS ducksets_named"
    )
    register_dataset(con, "main.odd")
    query = DatasetQueryService(Gateway(StorageConfig(), con))
    page = query.read_dataset_rows(dataset_name="odd")
    assert page.columns == ("rowid", "table_keys", "ducksets_page", "ducksets_named")
    assert page.rows == ({"rowid": 5, "table_keys": 6, "ducksets_page": 7, "ducksets_named": 8},)
