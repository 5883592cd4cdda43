"""Cursor paging: next_cursor continues a read, each row once; foreign cursors are refused."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ducksets import Gateway, StorageConfig, open_memory_gateway, register_dataset
from ducksets.errors import ArgumentTypeError, InvalidArgumentError, InvalidCursorError
from ducksets.rows import BackendLimits, DatasetQueryService, DatasetRowsResponse

SORT = "ORDER BY ALL ASC NULLS LAST"


def service(con: duckdb.DuckDBPyConnection, **kwargs: Any) -> DatasetQueryService:
    return DatasetQueryService(Gateway(StorageConfig(), con), **kwargs)


def comparable(row: dict[str, Any] | tuple[Any, ...]) -> tuple[Any, ...]:
    """A row as a tuple Python can compare: NaN is not equal to itself in Python."""
    values = row.values() if isinstance(row, dict) else row
    return tuple("NaN" if isinstance(v, float) and math.isnan(v) else v for v in values)


def read_by_cursor(
    query: DatasetQueryService, name: str, sizes: Iterator[int], offset: int = 0
) -> list[tuple[Any, ...]]:
    """Every row of ``name`` from ``offset`` on: the first page by offset, then by cursor."""
    page = query.read_dataset_rows(dataset_name=name, limit=next(sizes), offset=offset)
    rows = [comparable(r) for r in page.rows]
    while page.next_cursor is not None:
        assert page.meta.truncated
        position = page.offset + len(page.rows)
        page = query.read_dataset_rows(
            dataset_name=name, limit=next(sizes), cursor=page.next_cursor
        )
        assert page.offset == position  # the rows before this page, as an offset would say
        rows += [comparable(r) for r in page.rows]
    assert not page.meta.truncated
    return rows


# --- every row exactly once, in ORDER BY ALL order -----------------------------------

NUMBER = st.one_of(st.none(), st.integers(-2, 2))
TEXT = st.one_of(st.none(), st.sampled_from(["", "a", "b", "ü", "a'b", 'q"', "xxx"]))
REAL = st.one_of(
    st.none(), st.sampled_from([0.5, -1.25, math.inf, -math.inf, math.nan, 0.0, 1e300])
)
FLAG = st.one_of(st.none(), st.booleans())
ROW = st.tuples(NUMBER, TEXT, REAL, FLAG, NUMBER)
TABLE = "CREATE TABLE s.t (n INTEGER, txt VARCHAR, r DOUBLE, f BOOLEAN, d DECIMAL(9, 2))"
VIEWS = {
    "copy": "SELECT * FROM s.t",
    # Every row twice, and typed columns whose text must come back exactly.
    "twice": "SELECT *, DATE '2020-01-01' + n AS day, encode(txt) AS raw, "
    "TIMESTAMP_NS '2020-01-01 00:00:00.123456789' + to_hours(n) AS at FROM s.t "
    "UNION ALL SELECT *, DATE '2020-01-01' + n, encode(txt), "
    "TIMESTAMP_NS '2020-01-01 00:00:00.123456789' + to_hours(n) FROM s.t",
    # Few distinct rows: long runs of equal rows cross page ends.
    "narrow": "SELECT f, n IS NULL AS missing FROM s.t",
    # A column a cursor cannot hold: pages by offset.
    "listed": "SELECT n, [txt] AS txts FROM s.t",
}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(ROW, max_size=30),
    view=st.sampled_from(sorted(VIEWS)),
    sizes=st.lists(st.integers(1, 7), min_size=1, max_size=5),
    offset=st.integers(0, 8),
)
def test_a_view_read_by_cursor_is_order_by_all_exactly_once(
    con: duckdb.DuckDBPyConnection,
    rows: list[tuple[Any, ...]],
    view: str,
    sizes: list[int],
    offset: int,
) -> None:
    con.execute("DROP SCHEMA IF EXISTS s CASCADE; CREATE SCHEMA s")
    con.execute("DELETE FROM metadata.datasets")
    con.execute(TABLE)
    if rows:
        con.executemany("INSERT INTO s.t VALUES (?, ?, ?, ?, ?)", rows)
    con.execute(f"CREATE VIEW s.v AS {VIEWS[view]}")
    register_dataset(con, "s.v", name="v")
    query = service(con, limits=BackendLimits(max_rows_per_call=7))
    expected = [comparable(r) for r in con.execute(f"SELECT * FROM s.v {SORT}").fetchall()]
    cycle = iter(sizes * 100)
    assert read_by_cursor(query, "v", cycle, offset) == expected[offset:]


def test_a_table_cursor_holds_the_offset_in_insertion_order(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE main.backwards AS SELECT range AS n FROM range(9, -1, -1)")
    register_dataset(con, "main.backwards")
    query = service(con)
    assert read_by_cursor(query, "backwards", iter([3] * 10)) == [(n,) for n in range(9, -1, -1)]
    # A dataset registered after the gateway opened takes the checked path: the same pages.
    later = service(con)
    con.execute("CREATE TABLE main.later AS SELECT range AS n FROM range(5, 0, -1)")
    register_dataset(con, "main.later")
    assert read_by_cursor(later, "later", iter([2] * 10)) == [(5,), (4,), (3,), (2,), (1,)]


def test_a_collated_column_pages_in_its_collation(con: duckdb.DuckDBPyConnection) -> None:
    # A row comparison (a, b) > (x, y) ignores COLLATE NOCASE; ORDER BY does not.
    con.execute("CREATE TABLE main.words (w VARCHAR COLLATE NOCASE, n INTEGER)")
    con.execute("INSERT INTO main.words VALUES ('b', 1), ('A', 1), ('a', 1), ('B', 2), ('c', 0)")
    con.execute("CREATE VIEW main.v_words AS SELECT * FROM main.words")
    register_dataset(con, "main.v_words")
    rows = read_by_cursor(service(con), "v_words", iter([1] * 10))
    # 'A' and 'a' are equal here, so either may come first (as with offsets): count them folded.
    assert sorted((w.lower(), n) for w, n in rows) == [
        ("a", 1),
        ("a", 1),
        ("b", 1),
        ("b", 2),
        ("c", 0),
    ]
    assert [w.lower() for w, _ in rows] == ["a", "a", "b", "b", "c"]


def test_a_deep_page_by_cursor_reads_only_the_rows_after(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE VIEW main.v_nums AS SELECT range % 500 AS k, range AS id FROM range(2000)")
    register_dataset(con, "main.v_nums")
    query = service(con, limits=BackendLimits(max_rows_per_call=1000))
    first = query.read_dataset_rows(dataset_name="v_nums", limit=1000, offset=999)
    second = query.read_dataset_rows(dataset_name="v_nums", limit=1000, cursor=first.next_cursor)
    assert [tuple(r.values()) for r in second.rows] == con.execute(
        f"SELECT * FROM main.v_nums {SORT} OFFSET 1999"
    ).fetchall()
    assert (second.offset, second.next_cursor, second.next_offset) == (1999, None, None)


def test_a_deep_first_page_of_equal_rows_continues_after_all_of_them(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # Offset 3 lands inside a run of ten equal rows: the cursor must count the
    # three skipped before the page as well as the two on it.
    con.execute(
        "CREATE VIEW main.v_run AS "
        "SELECT 7 AS x FROM range(10) UNION ALL SELECT 8 UNION ALL SELECT 6"
    )
    register_dataset(con, "main.v_run")
    rows = read_by_cursor(service(con), "v_run", iter([2] * 20), offset=3)
    assert rows == [(7,)] * 8 + [(8,)]


def test_values_with_quotes_travel_as_parameters(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE main.victim AS SELECT 1 AS x")
    con.execute(
        "CREATE VIEW main.v_evil AS FROM (VALUES ('''); DROP TABLE main.victim; --'), "
        "('\"), (\\'), ('zz')) AS t(s)"
    )
    register_dataset(con, "main.v_evil")
    rows = read_by_cursor(service(con), "v_evil", iter([1] * 10))
    assert rows == con.execute(f"SELECT * FROM main.v_evil {SORT}").fetchall()
    assert con.execute("FROM main.victim").fetchall() == [(1,)]


def test_nested_columns_page_by_offset_and_say_so(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE VIEW main.v_maps AS SELECT MAP {range % 3: 'x'} AS m FROM range(5)")
    register_dataset(con, "main.v_maps")
    page = service(con).read_dataset_rows(dataset_name="v_maps", limit=2)
    (message,) = page.meta.messages
    assert (message.code, message.severity) == ("cursor_by_offset", "info")
    assert "m MAP(" in message.detail and "an offset" in message.detail
    assert len(read_by_cursor(service(con), "v_maps", iter([2] * 10))) == 5


# --- a cursor is refused unless this service made it for this dataset --------------


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with open_memory_gateway(
        views={
            "main.v_one": "SELECT range AS n FROM range(10)",
            "main.v_two": "SELECT range AS n FROM range(10)",
        }
    ) as opened:
        yield opened


def first_page(gateway: Gateway, name: str = "v_one") -> DatasetRowsResponse:
    page = DatasetQueryService(gateway).read_dataset_rows(dataset_name=name, limit=3)
    assert page.next_cursor is not None
    return page


def refused(query: DatasetQueryService, cursor: Any, match: str, **kwargs: Any) -> None:
    with pytest.raises(InvalidCursorError, match=match) as raised:
        query.read_dataset_rows(dataset_name=kwargs.pop("name", "v_one"), cursor=cursor, **kwargs)
    assert isinstance(raised.value, InvalidArgumentError)
    assert (raised.value.parameter, raised.value.value) == ("cursor", cursor)
    assert "start again without a cursor" in str(raised.value) or "not both" in str(raised.value)


def test_a_cursor_is_url_safe_text(gateway: Gateway) -> None:
    cursor = first_page(gateway).next_cursor
    assert cursor is not None
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


@pytest.mark.parametrize("position", [0, 10, -3, -1])
def test_a_changed_cursor_is_refused(gateway: Gateway, position: int) -> None:
    cursor = first_page(gateway).next_cursor
    assert cursor is not None
    changed = cursor[:position] + ("A" if cursor[position] != "A" else "B") + cursor[position + 1 :]
    refused(DatasetQueryService(gateway), changed, "not one this service issued")


@pytest.mark.parametrize("junk", ["", ".", "abc", "a.b", "é.é", "x" * 1000, "e30.AAAA"])
def test_junk_is_refused(gateway: Gateway, junk: str) -> None:
    refused(DatasetQueryService(gateway), junk, "not one this service issued")


def test_a_cursor_of_another_dataset_is_refused(gateway: Gateway) -> None:
    cursor = first_page(gateway, "v_two").next_cursor
    refused(DatasetQueryService(gateway), cursor, "belongs to dataset 'v_two', not 'v_one'")


def test_a_cursor_with_an_offset_is_refused(gateway: Gateway) -> None:
    cursor = first_page(gateway).next_cursor
    refused(DatasetQueryService(gateway), cursor, "not both", offset=3)
    page = DatasetQueryService(gateway).read_dataset_rows(
        dataset_name="v_one", cursor=cursor, offset=0
    )
    assert [r["n"] for r in page.rows] == list(range(3, 10))


def test_a_cursor_from_another_secret_is_refused(gateway: Gateway) -> None:
    secret = b"s" * 32
    made = DatasetQueryService(gateway, cursor_secret=secret)
    cursor = made.read_dataset_rows(dataset_name="v_one", limit=3).next_cursor
    refused(DatasetQueryService(gateway), cursor, "from another process")
    again = DatasetQueryService(gateway, cursor_secret=secret)
    assert len(again.read_dataset_rows(dataset_name="v_one", cursor=cursor).rows) == 7


def test_a_cursor_must_be_a_string(gateway: Gateway) -> None:
    with pytest.raises(ArgumentTypeError, match="cursor must be a string") as raised:
        DatasetQueryService(gateway).read_dataset_rows(dataset_name="v_one", cursor=b"x")  # type: ignore[arg-type]
    assert raised.value.parameter == "cursor"


def test_a_short_secret_is_refused(gateway: Gateway) -> None:
    with pytest.raises(InvalidArgumentError, match="at least 16 bytes, not 5") as raised:
        DatasetQueryService(gateway, cursor_secret=b"short")
    assert (raised.value.parameter, raised.value.value) == ("cursor_secret", None)
    with pytest.raises(ArgumentTypeError, match="must be bytes"):
        DatasetQueryService(gateway, cursor_secret="x" * 32)  # type: ignore[arg-type]


def test_a_cursor_is_stale_after_its_dataset_changed(gateway: Gateway) -> None:
    query = DatasetQueryService(gateway)
    cursor = first_page(gateway).next_cursor
    gateway.con.execute(
        "CREATE OR REPLACE VIEW main.v_one AS SELECT range::VARCHAR AS n FROM range(9)"
    )
    refused(query, cursor, "'v_one' changed its columns since this cursor was made")
    cursor = first_page(gateway).next_cursor
    gateway.con.execute("CREATE VIEW main.v_three AS SELECT 1 AS n")
    gateway.con.execute(
        "UPDATE metadata.datasets SET table_key = 'main.v_three' WHERE name = 'v_one'"
    )
    refused(query, cursor, r"'v_one' was registered as main.v_three since")


def test_a_table_cursor_is_stale_when_insertion_order_is_off(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute("CREATE TABLE main.t AS SELECT range AS n FROM range(10)")
    register_dataset(con, "main.t")
    query = service(con)
    cursor = query.read_dataset_rows(dataset_name="t", limit=3).next_cursor
    con.execute("SET preserve_insertion_order = false")
    refused(query, cursor, "'t' no longer pages in insertion order", name="t")
    # A sorted cursor keeps sorting after the setting is back on.
    sorted_cursor = query.read_dataset_rows(dataset_name="t", limit=3).next_cursor
    con.execute("SET preserve_insertion_order = true")
    page = query.read_dataset_rows(dataset_name="t", limit=3, cursor=sorted_cursor)
    assert [r["n"] for r in page.rows] == [3, 4, 5]


def test_limit_zero_keeps_the_cursor_where_it_was(gateway: Gateway) -> None:
    query = DatasetQueryService(gateway)
    cursor = first_page(gateway).next_cursor
    empty = query.read_dataset_rows(dataset_name="v_one", limit=0, cursor=cursor)
    assert (empty.rows, empty.meta.truncated, empty.offset) == ((), True, 3)
    page = query.read_dataset_rows(dataset_name="v_one", limit=2, cursor=empty.next_cursor)
    assert [r["n"] for r in page.rows] == [3, 4]
