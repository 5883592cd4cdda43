"""``ducksets serve`` under load: 8 HTTP clients at once, 200 ``read_dataset_rows`` calls each.

Builds a database with a 100,000-row table in a temporary directory, starts
``ducksets serve DB --http 127.0.0.1:PORT`` in a subprocess (loopback only)
and runs, alternately (A B A B ...):

- A, the baseline: 200 direct ``DatasetQueryService.read_dataset_rows`` calls
  in this process, on the same database opened read-only;
- B, the load: CLIENTS concurrent MCP sessions over streamable HTTP, each
  making CALLS ``read_dataset_rows`` calls (pages of 100 at offsets spread
  over the table).

Prints the load's p50 and p99 latency, throughput and errors (must be 0) per
round, and the ratio of its p50 to the direct call's p50 as median
[min..max]; for scale, also the p50 of one HTTP client alone (50 calls a
round), as most of the load's latency is calls queued behind each other.
The loop is bounded: ROUNDS rounds, then the server is stopped.

Run: .venv/bin/python benchmarks/serve.py [ROUNDS] [CLIENTS] [CALLS]
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import duckdb
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from ducksets import (
    DatasetQueryService,
    StorageConfig,
    install_macros,
    open_gateway,
    register_dataset,
)

ROWS = 100_000
PAGE = 100


def build(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        install_macros(con)
        con.execute(
            "CREATE TABLE main.big AS SELECT range AS id, 'x' || (range * 7 % 10007) AS label, "
            "range / 3 AS score, TIMESTAMP '2026-01-01' + to_seconds(range) AS at FROM range(?)",
            [ROWS],
        )
        register_dataset(con, "main.big")


def offsets(client: int, calls: int) -> list[int]:
    """Page offsets spread over the table, different for each client."""
    step = (ROWS - PAGE) // calls
    return [(client * 997 + i * step) % (ROWS - PAGE) for i in range(calls)]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def direct_round(service: DatasetQueryService, calls: int) -> list[float]:
    times = []
    for offset in offsets(0, calls):
        start = time.perf_counter()
        service.read_dataset_rows(dataset_name="big", limit=PAGE, offset=offset)
        times.append(time.perf_counter() - start)
    return times


async def client_calls(url: str, client: int, calls: int, times: list[float]) -> int:
    """One session's calls; returns its errors (tool errors and failed requests)."""
    errors = 0
    async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for offset in offsets(client, calls):
            start = time.perf_counter()
            try:
                args = {"name": "big", "limit": PAGE, "offset": offset}
                result = await session.call_tool("read_dataset_rows", args)
                errors += bool(result.is_error)
            except Exception:  # a failed request is counted, not fatal to the run
                errors += 1
            times.append(time.perf_counter() - start)
    return errors


def load_round(url: str, clients: int, calls: int) -> tuple[list[float], int, float]:
    """Latencies, errors and wall seconds of ``clients`` sessions at once."""
    times: list[float] = []
    errors: list[int] = []

    async def run() -> None:
        async def one(client: int) -> None:
            errors.append(await client_calls(url, client, calls, times))

        async with anyio.create_task_group() as group:
            for client in range(clients):
                group.start_soon(one, client)

    start = time.perf_counter()
    anyio.run(run)
    return times, sum(errors), time.perf_counter() - start


def start_server(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "ducksets", "serve", str(db), "--http", f"127.0.0.1:{port}"]
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server, f"http://127.0.0.1:{port}/mcp"
        time.sleep(0.05)
    server.kill()
    raise SystemExit("the server did not start listening within 30 s")


def main(rounds: int, clients: int, calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "serve-bench.duckdb"
        build(db)
        print(
            f"{ROWS:,}-row table, pages of {PAGE}; {rounds} rounds of: {calls} direct calls, "
            f"then {clients} HTTP clients x {calls} calls at once"
        )
        server, url = start_server(db)
        try:
            with open_gateway(StorageConfig(db, read_only=True)) as gateway:
                service = DatasetQueryService(gateway)
                run_rounds(service, url, rounds, clients, calls)
        finally:
            server.terminate()
            server.wait(timeout=30)


def run_rounds(
    service: DatasetQueryService, url: str, rounds: int, clients: int, calls: int
) -> None:
    direct_round(service, 20)  # warm-up, outside the count
    load_round(url, 1, 20)
    ratios: list[float] = []
    alone: list[float] = []
    total_errors = 0
    for index in range(rounds):
        direct = statistics.median(direct_round(service, calls))
        single, single_errors, _ = load_round(url, 1, 50)
        times, errors, wall = load_round(url, clients, calls)
        p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
        ratios.append(p50 / direct)
        alone.append(statistics.median(single) / direct)
        total_errors += errors + single_errors
        print(
            f"round {index + 1}: direct p50 {direct * 1e3:5.2f} ms | one client p50 "
            f"{statistics.median(single) * 1e3:5.2f} ms | {clients} clients: "
            f"p50 {p50 * 1e3:6.2f} ms,"
            f" p99 {p99 * 1e3:7.2f} ms, {len(times) / wall:6.1f} calls/s, {errors} errors"
        )
    print(f"{clients} clients' p50 / direct p50: {spread(ratios)}")
    print(f"one client's p50 / direct p50: {spread(alone)}")
    print(f"errors in all rounds: {total_errors}")
    if total_errors:
        raise SystemExit(1)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x [{min(values):.2f}..{max(values):.2f}]"


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:4]]
    main(*(arguments + [3, 8, 200][len(arguments) :]))
