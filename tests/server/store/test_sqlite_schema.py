"""A new SQLite store made from the schema snapshot is the store the migrations make, and nothing else is made
from it. (SQLite only, whatever database the suite runs on: the snapshot is SQLite's.)"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from server.store.database import make_engine, migrate, migrate_with_alembic
from server.store.schema_head import head_revision
from server.store.sqlite_schema import SNAPSHOT, create_if_empty, dump_migrated, snapshot_revision


def _store(path: Path, *, alembic: bool) -> Path:
    engine = make_engine(f"sqlite:///{path}")
    try:
        (migrate_with_alembic if alembic else migrate)(engine)
    finally:
        engine.dispose()
    return path


def _statements(script: str) -> list[str]:
    """A dump's statements, sorted: the migrations create some indexes in an order that changes from run to run."""
    return sorted(script.split(";\n"))


def _described(path: Path) -> tuple[list[str], list[tuple[str, object]]]:
    with sqlite3.connect(path) as db:
        pragmas = [(name, db.execute(f"PRAGMA {name}").fetchone()[0]) for name in _PRAGMAS]
        return _statements("\n".join(db.iterdump()) + "\n"), pragmas


_PRAGMAS = ("journal_mode", "auto_vacuum", "user_version", "application_id", "page_size", "encoding")


def test_the_snapshot_is_what_the_migrations_make() -> None:
    assert _statements(SNAPSHOT.read_text(encoding="utf-8")) == _statements(dump_migrated()), (
        "a migration changed the schema: write the snapshot again with `.venv/bin/python -m server.store.sqlite_schema`"
    )
    assert snapshot_revision(SNAPSHOT.read_text(encoding="utf-8")) == head_revision()


def test_a_store_made_from_the_snapshot_is_the_migrated_store(tmp_path: Path) -> None:
    made = _store(tmp_path / "snapshot.db", alembic=False)
    migrated = _store(tmp_path / "alembic.db", alembic=True)
    assert _described(made) == _described(migrated)
    # It is a store the migrations go on from: down one revision and up again.
    engine = make_engine(f"sqlite:///{made}")
    try:
        from alembic import command

        from server.store.database import _alembic_config  # pyright: ignore[reportPrivateUsage]

        command.downgrade(_alembic_config(engine), "-1")
        migrate(engine)
    finally:
        engine.dispose()
    assert _described(made) == _described(migrated)


def test_a_new_store_is_made_without_loading_alembic(tmp_path: Path) -> None:
    code = (
        "import sys; from server.store.database import make_engine, migrate;"
        f"migrate(make_engine('sqlite:///{tmp_path / 'new.db'}'));"
        "print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"


def test_a_database_with_anything_in_it_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "used.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE mine (x)")
        assert not create_if_empty(db)
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("mine",)]


def test_a_snapshot_of_another_revision_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "old.sql"
    old.write_text(SNAPSHOT.read_text(encoding="utf-8").replace(f"VALUES('{head_revision()}')", "VALUES('0001')"))
    monkeypatch.setattr("server.store.sqlite_schema.SNAPSHOT", old)
    with sqlite3.connect(tmp_path / "new.db") as db:
        assert not create_if_empty(db)
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
