"""Upgrades from every released pack (``tests/fixtures/pack-<v>.sql``) keep the catalog.

Each migration is applied from each release and recorded once; a migration that
alters a table (a future pack's, made in tmp_path) keeps rows; a failure or a foreign
shape rolls everything back.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import ducksets.pack
from ducksets import (
    CatalogShapeError,
    PackError,
    catalog_drift,
    install_macros,
    load_dataset_registry,
    pack_script,
    pack_version,
    verify_pack,
)
from ducksets._pack_source import InstallStep
from ducksets.pack import pack_steps

FIXTURES = Path(__file__).with_name("fixtures")
RELEASED = sorted(FIXTURES.glob("pack-*.sql"))


def test_every_release_before_this_one_is_frozen() -> None:
    versions = [p.stem.removeprefix("pack-") for p in RELEASED]
    assert {"0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0"} <= set(versions)
    assert pack_version() not in versions or pack_version() == max(versions)


@pytest.mark.parametrize("old_script", RELEASED, ids=lambda p: p.stem)
def test_upgrade_keeps_rows_and_leaves_a_complete_pack(old_script: Path, tmp_path: Path) -> None:
    old_version = old_script.stem.removeprefix("pack-")
    path = tmp_path / "old.db"
    with duckdb.connect(str(path)) as con:
        con.execute(old_script.read_text(encoding="utf-8"))
        con.execute("CREATE SCHEMA core; CREATE TABLE core.t AS SELECT range AS n FROM range(3)")
        con.execute("INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, 't.jsonl', NULL)")
        # dataset_columns came with 0.2.0; a 0.1.0 catalog declares no columns.
        has_columns = old_version != "0.1.0"
        if has_columns:
            row = "('core.t', 'n', 1, 'BIGINT', TRUE, NULL)"
            con.execute(f"INSERT INTO metadata.dataset_columns VALUES {row}")
    with duckdb.connect(str(path)) as con:
        result = install_macros(con)
        assert (result.version_before, result.version_after) == (old_version, pack_version())
        assert result.action == ("unchanged" if old_version == pack_version() else "upgraded")
        assert verify_pack(con) == ()
        dataset = load_dataset_registry(con).dataset_for_name("t")
        assert (dataset.table_key, dataset.jsonl_filename) == ("core.t", "t.jsonl")
        declared = con.execute(
            "SELECT table_key, column_name, declared_type FROM metadata.dataset_columns"
        )
        assert declared.fetchall() == ([("core.t", "n", "BIGINT")] if has_columns else [])
        assert catalog_drift(con).in_sync
        rows = con.execute("SELECT n FROM metadata.dataset_rows('core.t', row_limit := 5)")
        assert rows.fetchall() == [(0,), (1,), (2,)]


def old_database(tmp_path: Path, old_script: Path) -> Path:
    """A file with a released pack and one dataset (with a declared column from 0.2.0 on)."""
    path = tmp_path / f"{old_script.stem}.db"
    with duckdb.connect(str(path)) as con:
        con.execute(old_script.read_text(encoding="utf-8"))
        con.execute("CREATE SCHEMA core; CREATE TABLE core.t AS SELECT range AS n FROM range(3)")
        con.execute("INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, 't.jsonl', NULL)")
        if "dataset_columns" in {row[0] for row in con.execute("SHOW ALL TABLES").fetchall()}:
            row = "('core.t', 'n', 1, 'BIGINT', TRUE, NULL)"
            con.execute(f"INSERT INTO metadata.dataset_columns VALUES {row}")
    return path


def state(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    """Every pack table's definition and rows, and every macro: what an install may change."""
    tables = con.execute(
        "SELECT table_name, sql FROM duckdb_tables() WHERE schema_name = 'metadata' ORDER BY 1"
    ).fetchall()
    rows = [(name, sorted(con.execute(f"FROM metadata.{name}").fetchall())) for name, _ in tables]
    macros = con.execute(
        "SELECT function_name, macro_definition FROM duckdb_functions() "
        "WHERE schema_name = 'metadata' AND function_type IN ('macro', 'table_macro') ORDER BY ALL"
    ).fetchall()
    return [*tables, *rows, *macros]


def catalog(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    rows = con.execute("FROM metadata.datasets").fetchall()
    if con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'dataset_columns'"
    ).fetchone() == (1,):
        rows += con.execute("FROM metadata.dataset_columns").fetchall()
    return rows


MIGRATIONS = [step for step in pack_steps() if step.phase == "migration"]
# A migration applies to every release that does not record it yet (a release
# made after the migration records it in its own script).
UNMIGRATED = [
    pytest.param(script, step, id=f"{step.migration_name}-{script.stem}")
    for script in RELEASED
    for step in MIGRATIONS
    if f"SELECT {step.number}, '{step.migration_name}'" not in script.read_text(encoding="utf-8")
]


def test_each_migration_is_tested_from_the_releases_before_it() -> None:
    assert {p.values[1].migration_name for p in UNMIGRATED} == {
        m.migration_name for m in MIGRATIONS
    }
    assert "pack-0.5.0" in {p.values[0].stem for p in UNMIGRATED}


@pytest.mark.parametrize(("old_script", "migration"), UNMIGRATED)
@pytest.mark.parametrize("how", ["install_macros", "script"])
def test_each_migration_is_applied_from_each_release_and_recorded_once(
    old_script: Path, migration: InstallStep, how: str, tmp_path: Path
) -> None:
    path = old_database(tmp_path, old_script)
    with duckdb.connect(str(path)) as con:
        rows = catalog(con)
        if how == "install_macros":
            assert migration.migration_name in install_macros(con).migrated
        else:
            con.execute(pack_script())
        assert catalog(con)[: len(rows)] == rows
        record = con.execute(
            "SELECT name, pack_version FROM metadata.pack_migrations WHERE id = ?",
            [migration.number],
        ).fetchall()
        assert record == [(migration.migration_name, pack_version())]
        assert verify_pack(con) == ()
        after = state(con)
        again = install_macros(con)
        assert (again.action, again.migrated, again.created) == ("unchanged", (), ())
        con.execute(pack_script())  # the piped script runs every migration: each a no-op now
        assert state(con) == after


@pytest.fixture
def future_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the pack whose next release adds ``datasets.note`` (table file and migration)."""
    pack = tmp_path / "future-pack"
    shutil.copytree(ducksets.pack.pack_dir(), pack)
    [datasets] = pack.glob("*_datasets.sql")
    text = datasets.read_text(encoding="utf-8")
    grown = text.replace(
        "    parquet_filename TEXT\n);", "    parquet_filename TEXT,\n    note TEXT\n);"
    )
    assert grown != text
    datasets.write_text(grown, encoding="utf-8")
    number = len(MIGRATIONS) + 1
    (pack / "migrations" / f"{number:04d}_datasets_note.sql").write_text(
        f"-- migration {number:04d}: metadata.datasets gains a note column\n"
        "ALTER TABLE metadata.datasets ADD COLUMN IF NOT EXISTS note TEXT;\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(ducksets.pack, "pack_dir", lambda: pack)
    _clear_pack_caches()
    yield pack
    _clear_pack_caches()


def _clear_pack_caches() -> None:
    from ducksets._pack_reader import clear_shape_caches

    clear_shape_caches()


@pytest.mark.parametrize("old_script", RELEASED, ids=lambda p: p.stem)
@pytest.mark.parametrize("how", ["install_macros", "script"])
def test_a_migration_alters_an_older_table_shape_and_keeps_rows(
    future_pack: Path, old_script: Path, how: str, tmp_path: Path
) -> None:
    path = old_database(tmp_path, old_script)
    with duckdb.connect(str(path)) as con:
        rows = con.execute("FROM metadata.datasets").fetchall()
        if how == "install_macros":
            assert install_macros(con).migrated[-1] == "0002_datasets_note"
        else:
            con.execute(pack_script())
        assert con.execute("FROM metadata.datasets").fetchall() == [(*r, None) for r in rows]
        assert verify_pack(con) == ()
        ids = con.execute("SELECT id FROM metadata.pack_migrations ORDER BY id").fetchall()
        assert ids == [(step.number,) for step in MIGRATIONS] + [(len(MIGRATIONS) + 1,)]


def test_a_failure_mid_migration_rolls_everything_back(future_pack: Path, tmp_path: Path) -> None:
    """The first statement of a migration ran, the second failed: nothing is kept."""
    [note] = future_pack.glob("migrations/0002_*.sql")
    note.write_text(note.read_text() + "SELECT error('injected migration failure');\n")
    path = old_database(tmp_path, FIXTURES / "pack-0.1.0.sql")
    with duckdb.connect(str(path)) as con:
        before = state(con)
        with pytest.raises(
            PackError,
            match=r"installing migrations/0002_datasets_note.sql failed, "
            r"nothing was changed: .*injected migration failure",
        ):
            install_macros(con)
        assert state(con) == before
        with pytest.raises(duckdb.Error, match="injected migration failure"):
            con.execute(pack_script())
        con.execute("ROLLBACK")
        assert state(con) == before


@pytest.mark.parametrize("how", ["install_macros", "script"])
def test_a_foreign_table_shape_is_refused_after_the_migrations_with_nothing_changed(
    future_pack: Path, how: str, tmp_path: Path
) -> None:
    """A datasets.note of another type: the migration's ADD COLUMN IF NOT EXISTS keeps it."""
    path = old_database(tmp_path, FIXTURES / "pack-0.4.0.sql")
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE metadata.datasets ADD COLUMN note INTEGER")
        before = state(con)
        if how == "install_macros":
            message = "metadata.datasets has column note INTEGER, the pack needs VARCHAR"
            with pytest.raises(CatalogShapeError, match=message):
                install_macros(con)
        else:
            message = (
                "ducksets install failed, nothing was changed: metadata.datasets has columns "
                r"\(.*, note INTEGER\), the pack needs a table with \(.*, note VARCHAR\)"
            )
            with pytest.raises(duckdb.Error, match=message):
                con.execute(pack_script())
            con.execute("ROLLBACK")
        assert state(con) == before


DUCKDB_CLI = Path(sys.executable).parent / "duckdb"


def test_the_duckdb_cli_migrates_a_released_file_through_the_piped_script(
    future_pack: Path, tmp_path: Path
) -> None:
    """``ducksets sql | duckdb old.db`` with the duckdb CLI's own DuckDB version."""
    path = tmp_path / "cli.db"
    setup = (FIXTURES / "pack-0.1.0.sql").read_text(encoding="utf-8")
    setup += "INSERT INTO metadata.datasets VALUES ('core.t', 't', FALSE, NULL, NULL);\n"
    for script in (setup, pack_script(), pack_script()):
        done = subprocess.run(
            [str(DUCKDB_CLI), "-no-init", str(path)],
            input=script,
            capture_output=True,
            text=True,
            check=False,
        )
        assert (done.returncode, done.stderr) == (0, "")
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("FROM metadata.datasets").fetchall() == [
            ("core.t", "t", False, None, None, None)
        ]
        ids = con.execute("SELECT id FROM metadata.pack_migrations ORDER BY id").fetchall()
        assert ids == [(n,) for n in range(1, len(MIGRATIONS) + 2)]
        assert verify_pack(con) == ()


@pytest.mark.parametrize("how", ["install_macros", "script"])
def test_a_pack_migrations_table_of_another_shape_is_refused_before_anything_changes(
    how: str, tmp_path: Path
) -> None:
    path = old_database(tmp_path, FIXTURES / "pack-0.4.0.sql")
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE metadata.pack_migrations (id INTEGER)")
        before = state(con)
        message = r"metadata.pack_migrations (column id allows NULL|has columns \(id INTEGER\))"
        if how == "install_macros":
            with pytest.raises(CatalogShapeError, match=message):
                install_macros(con)
        else:
            with pytest.raises(duckdb.Error, match="nothing was changed: " + message):
                con.execute(pack_script())
            con.execute("ROLLBACK")
        assert state(con) == before


def test_the_current_release_is_frozen_as_the_pack_builds_it() -> None:
    """A pack change after freezing needs a new version (and its own frozen script)."""
    # The pack's version is always a released one (the CHANGELOG test), so it is frozen.
    frozen = FIXTURES / f"pack-{pack_version()}.sql"
    script = frozen.read_text(encoding="utf-8").split("\n", 1)[1]
    assert script == pack_script()
