"""lint_pack and check_catalog_keys: each rule fires on its fixture, the real pack is clean."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from ducksets import install_macros
from ducksets._dialect import DIALECT
from ducksets.errors import ArgumentTypeError, CatalogMissingError
from ducksets.lint import RULES, Diagnostic, check_catalog_keys, lint_pack
from ducksets.pack import pack_dir
from ducksets.sqltext import quote_literal

FIXTURES = Path(__file__).resolve().parent / "lint_fixtures"


def _fired(diagnostics: list[Diagnostic], rule: str) -> dict[str, list[Diagnostic]]:
    """The diagnostics of ``rule``, by file name."""
    by_file: dict[str, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        if diagnostic.rule == rule:
            by_file.setdefault(Path(diagnostic.file).name, []).append(diagnostic)
    return by_file


_REFUSED_MIGRATIONS = (
    "plain_add_column",
    "drop_column",
    "delete",
    "update_every_row",
    "insert_or_update",
    "plain_create",
    "macro",
)
"""The ds013 fixture's migrations after 0001_every_allowed_form.sql, in number order."""


def test_the_real_pack_lints_clean() -> None:
    assert lint_pack() == []


def test_the_real_pack_lints_clean_given_as_files() -> None:
    assert lint_pack(sorted(pack_dir().glob("*.sql"))) == []


def test_every_rule_has_a_fixture() -> None:
    fixture_rules = {d.name[:5].upper() for d in FIXTURES.iterdir() if d.is_dir()}
    assert fixture_rules == {rule for rule in RULES if rule.startswith("DS0")}


@pytest.mark.parametrize(
    ("rule", "fixture", "files"),
    [
        ("DS001", "ds001_parse", {"10_broken.sql", "20_two_objects.sql"}),
        (
            "DS002",
            "ds002_statement_kind",
            {"10_plain_table.sql", "20_plain_macro.sql", "30_delete.sql", "40_command.sql"},
        ),
        (
            "DS003",
            "ds003_pack_schema",
            {
                "20_unqualified_read.sql",
                "30_unqualified_call.sql",
                "40_outside_schema.sql",
                "0001_outside.sql",
            },
        ),
        (
            "DS004",
            "ds004_parameter_shadows_column",
            {"20_find_item.sql", "30_table_exists.sql"},
        ),
        (
            "DS005",
            "ds005_header",
            {"10_no_header.sql", "20_bad_example.sql", "30_wrong_name.sql", "40_no_sections.sql"},
        ),
        ("DS006", "ds006_manifest", {"MANIFEST", "20_unlisted.sql"}),
        ("DS007", "ds007_unordered_aggregate", {"10_names.sql"}),
        ("DS009", "ds009_alias_prefix", {"10_lookup.sql"}),
        ("DS008", "ds008_install", {"10_uses_missing.sql"}),
        ("DS010", "ds010_file_number", {"MANIFEST"}),
        (
            "DS011",
            "ds011_migration_name",
            {"0003_skips_two.sql", "0003_twice.sql", "4_short.sql"},
        ),
        (
            "DS012",
            "ds012_migration_header",
            {"0001_no_header.sql", "0002_wrong_number.sql", "0003_no_colon.sql"},
        ),
        (
            "DS013",
            "ds013_migration_statement",
            {f"000{n}_{name}.sql" for n, name in enumerate(_REFUSED_MIGRATIONS, start=2)},
        ),
        ("DS014", "ds014_ducklake_variant", {"10_checked.sql", "90_record.sql"}),
    ],
)
def test_rule_fires_on_its_fixture(rule: str, fixture: str, files: set[str]) -> None:
    diagnostics = lint_pack([FIXTURES / fixture])
    fired = _fired(diagnostics, rule)
    assert set(fired) == files
    for found in fired.values():
        for diagnostic in found:
            assert diagnostic.severity == "error"
            assert diagnostic.message.startswith(f"{RULES[rule]}: ")
    # The fixture's shared schema file is clean: a rule fires only where it should.
    assert "00_schema.sql" not in {Path(d.file).name for d in diagnostics}


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE OR REPLACE MACRO metadata.m(a, b := 5, c := 'x') AS (a + b)",
        "CREATE OR REPLACE MACRO metadata.m(a INTEGER, b INTEGER := 2) AS (a + b)",
        "CREATE OR REPLACE MACRO metadata.t(k, n := 10) AS TABLE SELECT * FROM range(n)",
        "COMMENT ON MACRO TABLE metadata.t IS 'ducksets: a table macro'",
    ],
)
def test_dialect_reads_what_duckdb_accepts_in_a_pack(sql: str) -> None:
    (tree,) = sqlglot.parse(sql, dialect=DIALECT)
    assert tree is not None
    assert not isinstance(tree, exp.Command)


def test_dialect_keeps_parameter_defaults() -> None:
    tree = sqlglot.parse_one("CREATE MACRO m(a, b := 5) AS (a)", dialect=DIALECT)
    defaults = [c.this.sql() for c in tree.find_all(exp.DefaultColumnConstraint)]
    assert defaults == ["5"]


def test_diagnostic_points_at_the_statement() -> None:
    diagnostics = lint_pack([FIXTURES / "ds001_parse"])
    second = _fired(diagnostics, "DS001")["20_two_objects.sql"]
    assert [(d.line, d.column) for d in second] == [(9, 1)]
    read = _fired(lint_pack([FIXTURES / "ds003_pack_schema"]), "DS003")["20_unqualified_read.sql"]
    assert [(d.line, d.column) for d in read] == [(9, 10)]
    assert "write metadata.items" in read[0].message


def test_diagnostic_is_a_frozen_value_with_the_documented_fields() -> None:
    assert [f.name for f in dataclasses.fields(Diagnostic)] == [
        "file",
        "line",
        "column",
        "rule",
        "severity",
        "message",
    ]
    diagnostic = Diagnostic("f.sql", 1, 1, "DS001", "error", "parse: x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        diagnostic.line = 2  # type: ignore[misc]


def test_statement_kind_messages_say_what_to_write() -> None:
    fired = _fired(lint_pack([FIXTURES / "ds002_statement_kind"]), "DS002")
    assert "IF NOT EXISTS" in fired["10_plain_table.sql"][0].message
    assert "CREATE OR REPLACE MACRO" in fired["20_plain_macro.sql"][0].message
    assert "raw command" in fired["40_command.sql"][0].message


def test_install_failure_names_the_file_and_duckdb_error() -> None:
    (found,) = _fired(lint_pack([FIXTURES / "ds008_install"]), "DS008")["10_uses_missing.sql"]
    assert "no_such_function_anywhere" in found.message
    assert found.line == 7


def test_non_idempotent_statement_fails_the_second_install() -> None:
    fired = _fired(lint_pack([FIXTURES / "ds002_statement_kind"]), "DS008")
    assert "second time" in fired["10_plain_table.sql"][0].message


def _pack_with_items(tmp_path: Path) -> Path:
    """A pack of the fixtures' schema and items table, with an empty migrations/ folder."""
    pack = tmp_path / "pack"
    (pack / "migrations").mkdir(parents=True)
    for name in ("00_schema.sql", "10_items.sql"):
        shutil.copy(FIXTURES / "ds003_pack_schema" / name, pack / name)
    (pack / "MANIFEST").write_text("00_schema.sql\n10_items.sql\n", encoding="utf-8")
    return pack


_ADD_NOTE = "ALTER TABLE metadata.items ADD COLUMN IF NOT EXISTS note VARCHAR;\n"


def test_add_column_if_not_exists_is_allowed_in_migrations_only(tmp_path: Path) -> None:
    pack = _pack_with_items(tmp_path)
    migration = pack / "migrations" / "0001_note.sql"
    migration.write_text(f"-- migration 0001: items get a note\n{_ADD_NOTE}", encoding="utf-8")
    assert lint_pack([pack]) == []
    header = "-- metadata.items (table)\n--\n-- Purpose: x.\n-- Parameters: none.\n"
    (pack / "20_note.sql").write_text(f"{header}-- Example:\n--   SELECT 1;\n{_ADD_NOTE}")
    with (pack / "MANIFEST").open("a", encoding="utf-8") as manifest:
        manifest.write("20_note.sql\n")
    (refused,) = _fired(lint_pack([pack]), "DS002")["20_note.sql"]
    assert "migrations/NNNN_slug.sql" in refused.message


def test_migrations_are_installed_by_the_install_check(tmp_path: Path) -> None:
    pack = _pack_with_items(tmp_path)
    migration = pack / "migrations" / "0001_notes.sql"
    migration.write_text(
        "-- migration 0001: a table the pack lacks\n"
        "ALTER TABLE metadata.notes ADD COLUMN IF NOT EXISTS note VARCHAR;\n",
        encoding="utf-8",
    )
    (found,) = _fired(lint_pack([pack]), "DS008")["0001_notes.sql"]
    assert "notes" in found.message
    assert found.line == 2


def test_a_migration_file_linted_alone_is_checked_as_a_migration(tmp_path: Path) -> None:
    migration = tmp_path / "migrations" / "0007_dataset_note.sql"
    migration.parent.mkdir()
    add = "ALTER TABLE metadata.datasets ADD COLUMN IF NOT EXISTS note VARCHAR;\n"
    migration.write_text(f"-- migration 0007: datasets get a note\n{add}", encoding="utf-8")
    assert lint_pack([migration]) == []  # numbered alone: no gap is reported
    migration.write_text(add, encoding="utf-8")
    assert {d.rule for d in lint_pack([migration])} == {"DS012"}


def test_migration_diagnostics_name_the_statement_and_the_other_file() -> None:
    fired = _fired(lint_pack([FIXTURES / "ds013_migration_statement"]), "DS013")
    (update,) = fired["0005_update_every_row.sql"]
    assert (update.line, update.column) == (2, 1)
    assert "WHERE" in update.message
    (shared,) = _fired(lint_pack([FIXTURES / "ds010_file_number"]), "DS010")["MANIFEST"]
    assert shared.line == 4
    assert "10_items.sql" in shared.message
    assert "10_item_count.sql" in shared.message


def test_single_files_are_checked_against_the_installed_pack(tmp_path: Path) -> None:
    # A loose file may use pack tables and macros; the manifest rule does not apply.
    loose = tmp_path / "50_count_datasets.sql"
    loose.write_text(
        "-- metadata.count_datasets (macro)\n--\n-- Purpose: how many datasets.\n"
        "-- Parameters: none.\n-- Example:\n--   SELECT metadata.count_datasets();\n"
        "CREATE OR REPLACE MACRO metadata.count_datasets() AS (\n"
        "    SELECT count(*) FROM metadata.datasets AS d WHERE metadata.dataset_exists(d.name)\n"
        ");\n",
        encoding="utf-8",
    )
    assert lint_pack([loose]) == []
    loose.write_text(loose.read_text(encoding="utf-8").replace("metadata.datasets", "datasets"))
    assert set(_fired(lint_pack([loose]), "DS003")) == {loose.name}


def test_a_copy_of_the_pack_with_an_unlisted_file_fails_the_manifest_rule(tmp_path: Path) -> None:
    copy = tmp_path / "pack"
    shutil.copytree(pack_dir(), copy)
    assert lint_pack([copy]) == []
    shutil.copy(copy / "30_quote_ident.sql", copy / "99_extra.sql")
    fired = _fired(lint_pack([copy]), "DS006")
    assert set(fired) == {"99_extra.sql"}


def test_a_path_that_is_neither_pack_nor_sql_is_reported(tmp_path: Path) -> None:
    (found,) = lint_pack([tmp_path / "missing"])
    assert found.rule == "DS006"


# --- check_catalog_keys ---------------------------------------------------------


def _catalog(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, bool]]) -> None:
    con.executemany("INSERT INTO metadata.datasets VALUES (?, ?, ?, NULL, NULL)", rows)


def test_catalog_keys_of_existing_relations_are_clean(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA core")
    con.execute("CREATE TABLE core.goids (id INTEGER)")
    con.execute('CREATE VIEW core."Odd View" AS SELECT 1 AS x')
    _catalog(
        con,
        [
            ("core.goids", "goids", False),
            ('CORE."odd view"', "odd", True),
            ("memory.core.goids", "goids3", False),
        ],
    )
    assert check_catalog_keys(con) == []


def test_bad_catalog_keys_are_reported_by_row(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA core")
    con.execute("CREATE TABLE core.goids (id INTEGER)")
    _catalog(
        con,
        [
            ("core.goids", "goids", False),
            ("core.missing", "missing", False),
            ("a.b; DROP TABLE c", "evil", False),
        ],
    )
    diagnostics = check_catalog_keys(con)
    # ORDER BY table_key: 'a.b; DROP TABLE c', 'core.goids', 'core.missing'
    assert [(d.file, d.line, d.column, d.rule) for d in diagnostics] == [
        ("metadata.datasets", 1, 1, "DS101"),
        ("metadata.datasets", 3, 1, "DS101"),
    ]
    assert "'evil'" in diagnostics[0].message
    assert "trailing text" in diagnostics[0].message
    assert "'core.missing'" in diagnostics[1].message
    assert "no table or view" in diagnostics[1].message


def test_catalog_in_another_schema_and_database(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute(f"ATTACH {quote_literal(str(tmp_path / 'side.db'))} AS side")
    install_macros(con, pack_schema="cat", database="side")
    con.execute("INSERT INTO side.cat.datasets VALUES ('side.cat.nope', 'nope', FALSE, NULL, NULL)")
    (found,) = check_catalog_keys(con, pack_schema="cat", database="side")
    assert found.file == "side.cat.datasets"
    assert "side.cat.nope" in found.message


def test_catalog_keys_schema_keyword_is_a_deprecated_spelling_of_pack_schema() -> None:
    con = duckdb.connect()
    install_macros(con, pack_schema="cat")
    con.execute("INSERT INTO cat.datasets VALUES ('cat.nope', 'nope', FALSE, NULL, NULL)")
    with pytest.warns(DeprecationWarning, match="use pack_schema="):
        old = check_catalog_keys(con, schema="cat")
    assert old == check_catalog_keys(con, pack_schema="cat")
    assert [d.file for d in old] == ["cat.datasets"]
    with pytest.raises(ArgumentTypeError, match="pack_schema") as raised:
        check_catalog_keys(con, schema="cat", pack_schema="other")
    assert raised.value.parameter == "schema"


def test_missing_catalog_says_to_install(fresh_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(CatalogMissingError, match="ducksets install"):
        check_catalog_keys(fresh_con)


def test_the_ducklake_variant_of_a_loose_file_is_checked_too(tmp_path: Path) -> None:
    table = tmp_path / "50_scores.sql"
    table.write_text(
        "-- metadata.scores (table)\n--\n-- Purpose: scores.\n-- Parameters: none.\n"
        "-- Example:\n--   SELECT * FROM metadata.scores;\n"
        "CREATE TABLE IF NOT EXISTS metadata.scores (\n    score TEXT COLLATE nocase\n);\n",
        encoding="utf-8",
    )
    fired = _fired(lint_pack([table]), "DS014")
    assert list(fired) == ["50_scores.sql"]
    assert "DuckLake has no COLLATE" in fired["50_scores.sql"][0].message


def test_a_loose_table_with_a_key_has_a_clean_ducklake_variant(tmp_path: Path) -> None:
    table = tmp_path / "50_twice.sql"
    table.write_text(
        "-- metadata.twice (table)\n--\n-- Purpose: twice.\n-- Parameters: none.\n"
        "-- Example:\n--   SELECT * FROM metadata.twice;\n"
        "CREATE TABLE IF NOT EXISTS metadata.twice (\n    id INTEGER PRIMARY KEY\n);\n",
        encoding="utf-8",
    )
    assert _fired(lint_pack([table]), "DS014") == {}
