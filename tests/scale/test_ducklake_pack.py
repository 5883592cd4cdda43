"""The pack in a real DuckLake (DuckDB 1.5.5 + duckdb-extension-ducklake): scripts/scale-tests."""

from __future__ import annotations

import duckdb


def test_the_fixtures_attach_a_ducklake_and_use_it(
    any_ducklake_con: duckdb.DuckDBPyConnection,
) -> None:
    row = any_ducklake_con.execute(
        "SELECT type FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    assert row == ("ducklake",)
