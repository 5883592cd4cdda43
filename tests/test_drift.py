"""The Python drift report mirrors catalog_drift() and renders for people."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from ducksets.drift import DRIFT_CODES, DriftItem, catalog_drift
from ducksets.errors import CatalogMissingError


def test_in_sync_then_drift(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA core; CREATE TABLE core.t (x INT)")
    con.execute("INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, NULL, NULL)")
    report = catalog_drift(con)
    assert report.in_sync and len(report) == 0
    assert repr(report) == "<DriftReport: in sync>"
    assert "in sync" in report._repr_html_()
    con.execute("INSERT INTO metadata.datasets VALUES ('core.<gone>', 'gone', FALSE, NULL, NULL)")
    report = catalog_drift(con)
    assert list(report) == [DriftItem("core.<gone>", "invalid_key", report.items[0].detail)]
    assert "invalid_key" in repr(report)
    assert "core.&lt;gone&gt;" in report._repr_html_()


def test_other_pack_schema(fresh_con: duckdb.DuckDBPyConnection) -> None:
    from ducksets import install_macros

    install_macros(fresh_con, pack_schema="cat")
    fresh_con.execute("INSERT INTO cat.datasets VALUES ('s.nope', 'nope', FALSE, NULL, NULL)")
    assert [i.drift for i in catalog_drift(fresh_con, pack_schema="cat")] == ["missing_relation"]
    with pytest.raises(CatalogMissingError):
        catalog_drift(fresh_con)


DRIFT_MACRO = Path(__file__).resolve().parents[1] / "macros" / "48_catalog_drift.sql"


def test_the_typed_codes_are_the_ones_the_macro_documents_and_emits() -> None:
    text = DRIFT_MACRO.read_text(encoding="utf-8")
    header = text.split("CREATE OR REPLACE MACRO")[0]
    documented = re.findall(r"^--     ([a-z_]+) ", header, flags=re.MULTILINE)
    # each UNION branch names its code as a lone string literal in the select list
    body = text.split("CREATE OR REPLACE MACRO")[1]
    emitted = re.findall(r"^\s+'([a-z_]+)'(?: AS drift)?,$", body, flags=re.MULTILINE)
    assert tuple(documented) == DRIFT_CODES
    assert sorted(set(emitted)) == sorted(DRIFT_CODES)
    assert {"duplicate_key", "duplicate_name"} <= set(DRIFT_CODES)
