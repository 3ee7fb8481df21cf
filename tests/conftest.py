"""Shared fixtures: an isolated SWITCHBOARD_HOME and a migrated store.

The store runs on SQLite unless ``SWITCHBOARD_DATABASE_URL`` names another database (CI runs the store
tests a second time on a real PostgreSQL): each test then gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from server.settings import Settings
from server.store.database import make_engine, migrate

EXTERNAL_DATABASE_URL = os.environ.get("SWITCHBOARD_DATABASE_URL")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SWITCHBOARD_HOME; no user config file or plugin dir leaks in."""
    state = tmp_path / "home"
    state.mkdir()
    monkeypatch.setenv("SWITCHBOARD_HOME", str(state))
    monkeypatch.delenv("CLAUDE_PLUGIN_DATA", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return state


@pytest.fixture
def database_url(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of an empty database for this test: SQLite under ``home``, or a new PostgreSQL database."""
    if not EXTERNAL_DATABASE_URL:
        url = f"sqlite:///{home / 'switchboard.db'}"
        monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", url)
        yield url
        return
    base = make_url(EXTERNAL_DATABASE_URL)
    name = f"sb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", url)
    try:
        yield url
    finally:
        try:
            # FORCE also ends autovacuum workers in it: the role needs pg_signal_backend (tests/run grants it).
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


@pytest.fixture
def settings(home: Path, database_url: str) -> Settings:
    return Settings()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated store."""
    store = make_engine(database_url)
    migrate(store)
    yield store
    store.dispose()
