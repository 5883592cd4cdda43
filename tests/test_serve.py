"""``ducksets serve``: the MCP server, driven by the ``mcp`` package's own client.

Over stdio (``stdio_client`` starting ``python -m ducksets serve DB``), over
streamable HTTP (the server in a subprocess on a free loopback port), and in
process (``mcp.Client(server)``) for the details. Every test that serves a
file checks afterwards that its bytes are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import duckdb
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from ducksets import (
    BackendLimits,
    InvalidArgumentError,
    StorageConfig,
    install_macros,
    open_gateway,
    register_dataset,
)
from ducksets.cli import main
from ducksets.errors import MissingExtraError
from ducksets.serve import ServedCatalog, create_server, parse_http_address, serve

ROWS = 250
TOOLS = {"list_datasets", "describe_dataset", "read_dataset_rows", "catalog_drift"}
# A view that runs for minutes: a 10^10-row cross join, sorted for its page.
SLOW_VIEW = "SELECT a.range AS a, b.range AS b FROM range(100000) a, range(100000) b"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def served_db(tmp_path: Path) -> Iterator[Path]:
    """A database file: table items (ROWS rows), views evens and slow, and a dataset
    'gone' whose table was dropped. Yields its path; checks its bytes at the end."""
    path = tmp_path / "served.duckdb"
    with duckdb.connect(str(path)) as con:
        install_macros(con)
        con.execute(
            "CREATE TABLE items AS SELECT range AS id, 'item ' || range AS label, "
            "CASE WHEN range = 3 THEN 'NaN'::DOUBLE ELSE range / 4 END AS score, "
            "(range / 100)::DECIMAL(10, 2) AS price, "
            "TIMESTAMP '2026-01-01' + to_hours(range) AS at, "
            "to_minutes(range) AS wait, '\\xAA'::BLOB AS raw FROM range(?)",
            [ROWS],
        )
        con.execute("COMMENT ON TABLE items IS 'things for sale'")
        con.execute("CREATE VIEW evens AS SELECT id, label FROM items WHERE id % 2 = 0")
        con.execute(f"CREATE VIEW slow AS {SLOW_VIEW}")
        con.execute("CREATE TABLE gone (x INTEGER)")
        for key in ("main.items", "main.evens", "main.slow", "main.gone"):
            register_dataset(con, key)
        con.execute("DROP TABLE gone")
        con.execute("CHECKPOINT")
    before = sha256(path)
    yield path
    assert sha256(path) == before, "serving changed the database file"


def payload(result: Any) -> dict[str, Any]:
    """A successful tool result's JSON."""
    assert not result.is_error, result.content[0].text
    document: dict[str, Any] = json.loads(result.content[0].text)
    return document


def error_text(result: Any) -> str:
    assert result.is_error, result.content[0].text
    return str(result.content[0].text)


async def page_through(session: ClientSession, name: str, limit: int) -> list[dict[str, Any]]:
    """Every row of ``name``: by ``next_offset`` for the first half, then by ``next_cursor``."""
    rows: list[dict[str, Any]] = []
    args: dict[str, Any] = {"name": name, "limit": limit, "offset": 0}
    while True:
        page = payload(await session.call_tool("read_dataset_rows", args))
        rows += page["rows"]
        if page["next_cursor"] is None:
            assert page["next_offset"] is None
            return rows
        if page["next_offset"] < 100:
            args = {"name": name, "limit": limit, "offset": page["next_offset"]}
        else:
            args = {"name": name, "limit": limit, "cursor": page["next_cursor"]}


async def check_errors(session: ClientSession) -> None:
    """Each error is a tool error saying what to do; the server answers the next call."""
    unknown = error_text(await session.call_tool("read_dataset_rows", {"name": "itmes"}))
    assert "no dataset 'itmes'; did you mean 'items'?" in unknown
    assert "did you mean 'items'" in error_text(
        await session.call_tool("describe_dataset", {"name": "itmes"})
    )
    wrong = error_text(
        await session.call_tool("read_dataset_rows", {"name": "items", "limit": "5"})
    )
    assert "limit must be an integer, not str '5'" in wrong
    wrong = error_text(
        await session.call_tool("read_dataset_rows", {"name": "items", "offset": True})
    )
    assert "offset must be an integer" in wrong
    assert "name must be a dataset name" in error_text(
        await session.call_tool("read_dataset_rows", {"name": 7})
    )
    missing = error_text(await session.call_tool("read_dataset_rows", {"name": "gone"}))
    assert "main.gone" in missing and "drift" in missing
    slow = error_text(await session.call_tool("read_dataset_rows", {"name": "slow", "limit": 1}))
    assert "ran longer than 1 s and was interrupted" in slow
    assert "--timeout" in slow
    # Still serving, the same connection.
    assert payload(await session.call_tool("read_dataset_rows", {"name": "evens"}))["rows"]


async def check_tools_and_paging(session: ClientSession) -> None:
    tools = await session.list_tools()
    assert {t.name for t in tools.tools} == TOOLS
    for tool in tools.tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint
    read = next(t for t in tools.tools if t.name == "read_dataset_rows")
    assert set(read.input_schema["properties"]) == {"name", "limit", "offset", "cursor"}
    # A limit above --max-rows-per-call 40 is clamped, and says so.
    first = payload(await session.call_tool("read_dataset_rows", {"name": "items", "limit": 64}))
    assert first["limit"] == 40 and first["requested_limit"] == 64
    assert [m["code"] for m in first["messages"]] == ["limit_clamped"]
    rows = await page_through(session, "items", 64)
    assert [r["id"] for r in rows] == list(range(ROWS))
    assert sorted(r["id"] for r in await page_through(session, "evens", 33)) == list(
        range(0, ROWS, 2)
    )


@asynccontextmanager
async def stdio_session(db: Path, *flags: str) -> AsyncIterator[ClientSession]:
    command = [*("-m", "ducksets", "serve", str(db)), *flags]
    params = StdioServerParameters(command=sys.executable, args=command)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def test_stdio_lists_tools_pages_everything_and_reports_every_error(served_db: Path) -> None:
    async def run() -> None:
        flags = ("--max-rows-per-call", "40", "--timeout", "1")
        async with stdio_session(served_db, *flags) as session:
            await check_tools_and_paging(session)
            await check_errors(session)

    anyio.run(run)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def http_server(served_db: Path) -> Iterator[str]:
    """``ducksets serve DB --http 127.0.0.1:PORT`` in a subprocess; yields its URL, stops it."""
    port = free_port()
    command = [sys.executable, "-m", "ducksets", "serve", str(served_db)]
    flags = ["--http", f"127.0.0.1:{port}", "--max-rows-per-call", "40", "--timeout", "1"]
    process = subprocess.Popen([*command, *flags], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "the server did not start listening"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[ClientSession]:
    async with (
        streamable_http_client(url) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def test_http_serves_several_clients_at_once(http_server: str) -> None:
    results: dict[str, Any] = {}

    async def pager(index: int) -> None:
        async with http_session(http_server) as session:
            rows = await page_through(session, "items", 17 + index)
            results[f"pager {index}"] = [r["id"] for r in rows]

    async def slow_reader() -> None:
        async with http_session(http_server) as session:
            result = await session.call_tool("read_dataset_rows", {"name": "slow", "limit": 1})
            results["slow"] = error_text(result)

    async def run() -> None:
        async with http_session(http_server) as session:
            await check_tools_and_paging(session)
            await check_errors(session)
        # Four pagers and a read that times out, all at once: the slow read
        # blocks none of the others.
        async with anyio.create_task_group() as group:
            group.start_soon(slow_reader)
            for index in range(4):
                group.start_soon(pager, index)

    anyio.run(run)
    assert "was interrupted" in results.pop("slow")
    assert results == {f"pager {i}": list(range(ROWS)) for i in range(4)}


@pytest.fixture
def catalog(served_db: Path) -> Iterator[ServedCatalog]:
    gateway = open_gateway(StorageConfig(served_db, read_only=True))
    try:
        yield ServedCatalog(gateway, limits=BackendLimits(max_rows_per_call=10), timeout=1)
    finally:
        gateway.close()


def call(catalog: ServedCatalog, tool: str, **arguments: Any) -> Any:
    """One tool call through ``mcp.Client`` on the server in process."""
    from mcp import Client

    async def run() -> Any:
        async with Client(create_server(catalog)) as client:
            return await client.call_tool(tool, arguments)

    return anyio.run(run)


def test_values_are_json_safe_by_the_cli_rules(catalog: ServedCatalog) -> None:
    page = payload(call(catalog, "read_dataset_rows", name="items", limit=2, offset=3))
    assert page["columns"] == ["id", "label", "score", "price", "at", "wait", "raw"]
    assert page["rows"][0] == {
        "id": 3,
        "label": "item 3",
        "score": None,  # NaN: standard JSON has none
        "price": 0.03,
        "at": "2026-01-01T03:00:00",
        "wait": "PT3M",
        "raw": "aa",
    }
    assert page["truncated"] is True and page["next_offset"] == 5


def test_list_describe_and_drift(catalog: ServedCatalog) -> None:
    listed = payload(call(catalog, "list_datasets"))["datasets"]
    assert [d["name"] for d in listed] == ["evens", "gone", "items", "slow"]
    items = next(d for d in listed if d["name"] == "items")
    assert items == {
        "name": "items",
        "table_key": "main.items",
        "kind": "table",
        "rows": ROWS,
        "description": "things for sale",
    }
    # A view is not counted (counting runs it: the slow one would time out).
    assert next(d for d in listed if d["name"] == "slow")["rows"] is None
    described = payload(call(catalog, "describe_dataset", name="evens"))
    assert described["kind"] == "view"
    assert [(c["name"], c["type"]) for c in described["actual_columns"]] == [
        ("id", "BIGINT"),
        ("label", "VARCHAR"),
    ]
    drift = payload(call(catalog, "catalog_drift"))
    assert drift["in_sync"] is False
    assert [(i["table_key"], i["drift"]) for i in drift["items"]] == [
        ("main.gone", "missing_relation")
    ]


def test_a_view_paged_by_cursor_returns_every_row_once(catalog: ServedCatalog) -> None:
    page = payload(call(catalog, "read_dataset_rows", name="evens", limit=7))
    rows = list(page["rows"])
    while page["next_cursor"] is not None:
        cursor = page["next_cursor"]
        page = payload(call(catalog, "read_dataset_rows", name="evens", limit=7, cursor=cursor))
        rows += page["rows"]
    assert page["truncated"] is False and page["next_offset"] is None
    assert sorted(r["id"] for r in rows) == sorted({r["id"] for r in rows})
    expected = catalog.gateway.con.execute("SELECT count(*) FROM evens").fetchone()
    assert expected is not None and len(rows) == expected[0]


def test_a_changed_or_foreign_cursor_is_a_tool_error_naming_it(catalog: ServedCatalog) -> None:
    cursor = payload(call(catalog, "read_dataset_rows", name="evens", limit=3))["next_cursor"]
    assert isinstance(cursor, str)
    changed = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for name, given in (("evens", changed), ("items", cursor), ("evens", 5)):
        text = error_text(call(catalog, "read_dataset_rows", name=name, cursor=given))
        assert "cursor" in text


def test_timeout_must_be_positive(catalog: ServedCatalog) -> None:
    bad: Any
    for bad in (0, -1, True, "5"):
        with pytest.raises(InvalidArgumentError) as caught:
            ServedCatalog(catalog.gateway, timeout=bad)
        assert caught.value.parameter == "timeout"


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("8000", ("127.0.0.1", 8000)),
        ("0.0.0.0:8000", ("0.0.0.0", 8000)),
        ("localhost:1", ("localhost", 1)),
        ("[::1]:65535", ("::1", 65535)),
    ],
)
def test_http_address(text: str, address: tuple[str, int]) -> None:
    assert parse_http_address(text) == address


@pytest.mark.parametrize("text", ["", "host:", "0", "65536", "http", "1.5", "\uff18\uff10"])
def test_bad_http_address_names_the_option(text: str) -> None:
    with pytest.raises(InvalidArgumentError, match=r"--http takes \[HOST:\]PORT") as caught:
        parse_http_address(text)
    assert caught.value.parameter == "http"


@pytest.fixture
def without_mcp(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``mcp`` package as if not installed: every import of it fails."""
    for name in [m for m in sys.modules if m == "mcp" or m.startswith("mcp.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "mcp", None)


@pytest.mark.usefixtures("without_mcp")
def test_without_mcp_serve_names_the_extra(served_db: Path, catalog: ServedCatalog) -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'ducksets\[serve\]'") as caught:
        serve(served_db)
    assert caught.value.extra == "serve"
    with pytest.raises(MissingExtraError, match=r"pip install 'ducksets\[serve\]'"):
        create_server(catalog)


@pytest.mark.usefixtures("without_mcp")
def test_without_mcp_the_verb_names_the_extra(
    served_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(served_db)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "ducksets serve: serving needs the mcp package, which is not installed: "
        "pip install 'ducksets[serve]'"
    )


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("--http", "localhost"), "--http takes [HOST:]PORT"),
        (("--timeout", "0"), "timeout must be a positive number of seconds"),
        (("--timeout", "nan"), "timeout must be a positive number of seconds"),
        (("--max-rows-per-call", "0"), "max_rows_per_call must be at least 1"),
    ],
)
def test_bad_options_are_one_line_before_anything_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], expected: str
) -> None:
    missing = tmp_path / "absent.duckdb"  # the options are refused before the path is looked at
    assert main(["serve", str(missing), *flags]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err
    assert not missing.exists()


def test_a_missing_database_is_one_line_and_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "absent.duckdb"
    assert main(["serve", str(missing)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "absent.duckdb" in err
    assert not missing.exists()


def test_list_datasets_resolves_and_counts_as_the_library_does(
    codeintel: tuple[duckdb.DuckDBPyConnection, dict[str, Any], dict[str, str]],
) -> None:
    """One catalog scan for every dataset gives what find_relation and count_datasets give
    one by one, for 109 datasets, keys spelled in another case, and a key naming nothing."""
    from ducksets import Gateway, count_datasets, load_dataset_registry
    from ducksets._introspect import find_relation

    con = codeintel[0]
    con.execute('CREATE SCHEMA "Odd Schema"')
    con.execute('CREATE TABLE "Odd Schema"."Mixed Case" AS SELECT range AS n FROM range(7)')
    con.execute('COMMENT ON TABLE "Odd Schema"."Mixed Case" IS \'seven\'')
    register_dataset(con, '"Odd Schema"."Mixed Case"', name="odd")
    con.execute("CREATE TABLE main.shouty AS SELECT 1 AS x")
    register_dataset(con, "MAIN.SHOUTY", name="shouty")
    con.execute("CREATE TABLE main.dropped (x INTEGER)")
    register_dataset(con, "main.dropped")
    con.execute("DROP TABLE main.dropped")
    catalog = ServedCatalog(Gateway(StorageConfig(), con))
    listed = {d["name"]: d for d in catalog.list_datasets()["datasets"]}
    datasets = load_dataset_registry(con).by_name.values()
    assert set(listed) == {d.name for d in datasets}
    counted = {c.name: c.rows for c in count_datasets(con, [d for d in datasets if not d.is_view])}
    for dataset in datasets:
        row = listed[dataset.name]
        assert (row["table_key"], row["kind"]) == (dataset.table_key, dataset.kind)
        assert row["rows"] == counted.get(dataset.name)
        found = find_relation(con, dataset.key) is not None
        assert row["rows"] is not None or dataset.is_view or not found
    assert listed["odd"]["rows"] == 7 and listed["odd"]["description"] == "seven"
    assert listed["shouty"]["rows"] == 1
    assert listed["dropped"]["rows"] is None


def test_a_slow_read_is_interrupted_while_other_threads_read_on(served_db: Path) -> None:
    """Without MCP: ServedCatalog from several threads, one read timing out among them."""
    from concurrent.futures import ThreadPoolExecutor

    from ducksets.errors import ReadTimeoutError

    gateway = open_gateway(StorageConfig(served_db, read_only=True))
    catalog = ServedCatalog(gateway, limits=BackendLimits(max_rows_per_call=10), timeout=0.5)

    def every_id(step: int) -> list[int]:
        ids, offset = [], 0
        while True:
            page = catalog.read_dataset_rows("items", 7 + step, offset)
            ids += [row["id"] for row in page["rows"]]
            if page["next_offset"] is None:
                return ids
            offset = page["next_offset"]

    try:
        with ThreadPoolExecutor(max_workers=5) as pool:
            slow = pool.submit(catalog.read_dataset_rows, "slow", 1)
            pagers = [pool.submit(every_id, step) for step in range(4)]
            with pytest.raises(ReadTimeoutError, match="ran longer than 0.5 s") as caught:
                slow.result(timeout=60)
            assert caught.value.seconds == 0.5
            assert [p.result(timeout=60) for p in pagers] == [list(range(ROWS))] * 4
        assert catalog.read_dataset_rows("evens", 3)["rows"] == [
            {"id": 0, "label": "item 0"},
            {"id": 2, "label": "item 2"},
            {"id": 4, "label": "item 4"},
        ]
    finally:
        gateway.close()
