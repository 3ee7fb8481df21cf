"""Ingest loses nothing and duplicates nothing: killed mid-way, with the store locked or unreachable."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, func, select

from server.settings import Settings
from server.store.database import make_engine
from server.store.ingest import ingest_spool
from server.store.models import RawEvent, ToolCall
from server.store.spool import Spool
from tests.conftest import EXTERNAL_DATABASE_URL
from tests.server.store.spool_support import hook, pending, raw_event_count, spool_event

REPO = Path(__file__).resolve().parents[3]
ON_POSTGRESQL = (EXTERNAL_DATABASE_URL or "").startswith("postgresql")
T0 = 1_700_000_000.0


def fill_spool(spool: Path, count: int) -> set[str]:
    ids: set[str] = set()
    for n in range(count):
        name = "PreToolUse" if n % 2 == 0 else "PostToolUse"
        payload = hook(
            name, session_id=f"s{n % 11}", tool_name="Bash", tool_use_id=f"toolu_{n // 2}", tool_response="ok"
        )
        ids.add(spool_event(spool, payload, at=T0 + n / 1000))
    return ids


def assert_stored_exactly_once(engine: Engine, ids: set[str], tool_calls: int) -> None:
    with Session(engine) as db:
        stored = list(db.exec(select(RawEvent.event_id)))
        calls = db.exec(select(func.count()).select_from(ToolCall)).one()
        pending_calls = db.exec(select(func.count()).select_from(ToolCall).where(ToolCall.status == "pending")).one()
    assert len(stored) == len(ids) and set(stored) == ids
    assert (calls, pending_calls) == (tool_calls, 0)


def wait_for(predicate: Callable[[], bool], proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert proc.poll() is None, "ingest finished before it could be killed mid-way"
        assert time.monotonic() < deadline, "ingest made no progress"
        time.sleep(0.002)


def _spool_shrank(spool: Path, total: int) -> Callable[[], bool]:
    return lambda: len(os.listdir(spool / "new")) < total


def _rows_committed(engine: Engine) -> Callable[[], bool]:
    return lambda: raw_event_count(engine) > 0


@pytest.mark.parametrize("moment", ["after_first_commit", "after_first_unlinks"])
def test_ingest_killed_mid_way_then_rerun_stores_every_event_exactly_once(
    settings: Settings, engine: Engine, moment: str
) -> None:
    total = 6_000
    ids = fill_spool(settings.spool_dir, total)
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "ingest", "--quiet"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        watch = _rows_committed(engine) if moment == "after_first_commit" else _spool_shrank(settings.spool_dir, total)
        wait_for(watch, proc)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        assert proc.stderr is not None
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    left = len(pending(settings.spool_dir))
    assert 0 < left <= total, "the kill did not land mid-way"
    report = ingest_spool(engine, Spool(settings.spool_dir))
    assert report.error is None and report.remaining == 0
    assert report.ingested + report.duplicates == left
    assert_stored_exactly_once(engine, ids, total // 2)


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=100")
    cursor.close()


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite's locking; the PostgreSQL run has its own test")
def test_events_wait_in_the_spool_while_sqlite_is_locked_and_arrive_once_released(
    settings: Settings, engine: Engine, database_url: str
) -> None:
    ids = fill_spool(settings.spool_dir, 40)
    impatient = make_engine(database_url)
    event.listen(impatient, "connect", _short_busy_timeout)  # after make_engine's own: this one wins
    holder = sqlite3.connect(make_url(database_url).database or "", timeout=1)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock past our busy timeout
        holder.execute(
            "INSERT INTO prompt (event_id, session_id, text, created_at) VALUES ('x', 'x', 'x', '2026-01-01')"
        )
        report = ingest_spool(impatient, Spool(settings.spool_dir), batch_size=16)
        assert report.error is not None and "locked" in report.error
        assert (report.ingested, report.remaining) == (0, 40)
        holder.rollback()
    finally:
        holder.close()
    report = ingest_spool(impatient, Spool(settings.spool_dir), batch_size=16)
    impatient.dispose()
    assert (report.ingested, report.duplicates, report.remaining, report.error) == (40, 0, 0, None)
    assert_stored_exactly_once(engine, ids, 20)


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL's locking; the SQLite run has its own test")
def test_events_wait_in_the_spool_while_postgresql_tables_are_locked_and_arrive_once_released(
    settings: Settings, engine: Engine, database_url: str
) -> None:
    ids = fill_spool(settings.spool_dir, 40)
    holder = make_engine(database_url)
    try:
        with holder.connect() as conn:
            conn.execute(text("LOCK TABLE raw_event IN ACCESS EXCLUSIVE MODE"))  # e.g. a migration running
            report = ingest_spool(engine, Spool(settings.spool_dir), batch_size=16, lock_timeout_ms=200)
            assert report.error is not None and "lock" in report.error
            assert (report.ingested, report.remaining) == (0, 40)
            conn.rollback()
    finally:
        holder.dispose()
    report = ingest_spool(engine, Spool(settings.spool_dir), batch_size=16, lock_timeout_ms=200)
    assert (report.ingested, report.duplicates, report.remaining, report.error) == (40, 0, 0, None)
    assert_stored_exactly_once(engine, ids, 20)


def closed_port_url(database_url: str) -> str:
    """A PostgreSQL URL nobody listens on: what a stopped or unreachable server looks like."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = database_url if database_url.startswith("postgresql") else "postgresql+psycopg://u:secret-pw@h/db"
    return make_url(base).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def test_events_wait_in_the_spool_while_the_store_is_unreachable_and_arrive_once_back(
    settings: Settings, engine: Engine, database_url: str
) -> None:
    ids = fill_spool(settings.spool_dir, 30)
    down = make_engine(closed_port_url(database_url))
    try:
        for _ in range(2):
            report = ingest_spool(down, Spool(settings.spool_dir))
            assert report.error is not None and report.error.startswith("store unavailable (OperationalError")
            assert "secret-pw" not in report.error and "switchboard:switchboard" not in report.error
            assert (report.ingested, report.remaining) == (0, 30)
    finally:
        down.dispose()
    report = ingest_spool(engine, Spool(settings.spool_dir))
    assert (report.ingested, report.duplicates, report.remaining, report.error) == (30, 0, 0, None)
    assert_stored_exactly_once(engine, ids, 15)
