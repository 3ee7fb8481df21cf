from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from server.store.database import make_engine, migrate

PUBLIC_TABLES = {"session", "prompt", "tool_call", "subagent_run", "delegation", "raw_event", "model_usage"}


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty, unmigrated database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_migrating_an_empty_database_creates_every_table_of_the_models(bare_engine: Engine) -> None:
    engine = bare_engine
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert PUBLIC_TABLES <= tables
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrated_columns_match_the_models(engine: Engine) -> None:
    inspector = inspect(engine)
    for name, table in SQLModel.metadata.tables.items():
        in_db = {c["name"] for c in inspector.get_columns(name)}
        assert in_db == {c.name for c in table.columns}, name


def test_every_table_has_a_session_id(engine: Engine) -> None:
    inspector = inspect(engine)
    for name in SQLModel.metadata.tables:
        assert "session_id" in {c["name"] for c in inspector.get_columns(name)}, name


def test_migrating_twice_changes_nothing_and_downgrade_to_base_drops_the_tables(bare_engine: Engine) -> None:
    engine = bare_engine
    migrate(engine)
    migrate(engine)
    from alembic import command

    from server.store.database import _alembic_config

    command.downgrade(_alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    assert PUBLIC_TABLES <= set(inspect(engine).get_table_names())


def test_sqlite_store_runs_in_wal_mode_with_a_busy_timeout(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("WAL and busy_timeout are SQLite settings")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_processes_migrating_a_new_store_at_once_all_succeed(database_url: str) -> None:
    # The MCP server, the dashboard and the SessionEnd ingest may all open a brand-new store at the same moment.
    script = "import sys; from server.store.database import make_engine, migrate; migrate(make_engine(sys.argv[1]))"
    procs = [
        subprocess.Popen([sys.executable, "-c", script, database_url], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) >= PUBLIC_TABLES
    finally:
        engine.dispose()
