"""The recorder: rows written behind the response; a store held by another process costs no answer and no row."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import Process
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp import Client
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from server.config import SwitchboardConfig
from server.engine.runtime import Runtime
from server.settings import Settings
from server.store import record_batches, record_log
from server.store.background import ingest_once
from server.store.models import Delegation, RecordBatch, ThreadMessage
from server.store.recorder import Batch, Recorder
from server.tools.app import SessionOptions, build_server
from tests.fakes.openai_api import FakeOpenAI

pytestmark = pytest.mark.anyio

_SQLITE_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
"""

_POSTGRES_HOLDER = """
import sys
from sqlalchemy import create_engine, text
with create_engine(sys.argv[1]).connect() as db:
    db.execute(text("SELECT thread_id FROM thread WHERE thread_id = :t FOR UPDATE"), {"t": sys.argv[2]})
    print("locked", flush=True)
    sys.stdin.readline()
    db.rollback()
"""


@asynccontextmanager
async def lock_held_elsewhere(engine: Engine, thread_id: str) -> AsyncGenerator[Process]:
    """Another process holds the store's write lock (SQLite) or the thread's row lock (PostgreSQL)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        args = [sys.executable, "-c", _SQLITE_HOLDER, str(url.database)]
    else:
        args = [sys.executable, "-c", _POSTGRES_HOLDER, url.render_as_string(hide_password=False), thread_id]
    async with await anyio.open_process(args) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        with anyio.fail_after(30):
            assert (await holder.stdout.receive()).startswith(b"locked")
        yield holder
        await holder.stdin.aclose()  # the holder rolls back and exits
        with anyio.fail_after(30):
            await holder.wait()


def count(engine: Engine, model: Any) -> int:
    with Session(engine) as db:
        return db.exec(select(func.count()).select_from(model)).one()


async def test_a_store_locked_by_another_process_costs_no_answer_and_its_rows_land_once_later(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    runtimes: list[Runtime] = []
    with FakeOpenAI(models=["model-a"]) as fake:
        config = SwitchboardConfig.model_validate(
            {"providers": {"acme": {"base_url": fake.base_url, "api_key_env": "K", "models": ["model-a"]}}}
        )

        def hook(runtime: Runtime) -> None:
            runtime.recorder.lock_timeout_s = 1.0  # PostgreSQL's wait for the row lock; SQLite waits its busy timeout
            runtimes.append(runtime)

        server = build_server(
            settings,
            config,
            SessionOptions(store=engine, environ={"K": "k"}, roots=[tmp_path], ingest=False, on_runtime=hook),
        )
        async with Client(server) as client:
            first = await client.call_tool("delegate", {"task": "one", "task_type": "general"})
            assert not first.is_error, first.content
            thread_id = first.structured_content["thread_id"]  # pyright: ignore[reportOptionalSubscript]
            recorder = runtimes[0].recorder
            assert await recorder.settled(20)
            async with lock_held_elsewhere(engine, thread_id):
                with anyio.fail_after(4):  # well inside the store's 5 s busy timeout: nobody waited for the lock
                    second = await client.call_tool("delegate", {"task": "two", "thread_id": thread_id})
                assert not second.is_error, second.content
                assert await recorder.settled(30)
                waiting = record_batches.pending_files(recorder.records_dir)
                assert recorder.spilled == 1 and len(waiting) == 1
                assert waiting[0].stat().st_mode & 0o777 == 0o600
            third = await client.call_tool("delegate", {"task": "three", "thread_id": thread_id})
            assert not third.is_error, third.content
            assert await recorder.settled(30)
    assert record_batches.pending_files(recorder.records_dir) == []
    with Session(engine) as db:
        tasks = db.exec(select(ThreadMessage.content).where(col(ThreadMessage.role) == "user")).all()
    assert sorted(tasks) == ["one", "three", "two"]
    assert count(engine, Delegation) == 3
    ingest_once(settings, engine)  # nothing left to land: nothing doubles
    assert count(engine, Delegation) == 3


def a_batch(text: str, cost: float | None) -> Batch:
    row = Delegation(request_id="r", provider="p", model="m", status="ok", error=text, cost_usd=cost, priced=True)
    return Batch([row], thread=("t1", "s1"), session_id="s1")


async def test_a_spilled_batch_lands_exactly_once_however_often_it_is_replayed(
    settings: Settings, engine: Engine
) -> None:
    records = settings.spool_dir / "records"
    record_batches.spill(records, [a_batch("x", 0.5)])
    (kept,) = record_batches.pending_files(records)
    copy = kept.with_name("copy")
    shutil.copy(kept, copy)
    ingest_once(settings, engine)  # the next ingest lands it
    shutil.copy(copy, kept)  # as if a process died between commit and unlink
    assert record_batches.replay(engine, records) == 0
    assert count(engine, Delegation) == 1 and count(engine, RecordBatch) == 1
    assert record_batches.pending_files(records) == []


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=200), cost=st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_a_spilled_row_reads_back_as_written(text: str, cost: float | None) -> None:
    batch = a_batch(text, cost)
    back = record_batches._from_json(record_batches._to_json(batch))  # pyright: ignore[reportPrivateUsage]
    (row,) = back.rows
    assert isinstance(row, Delegation)
    assert (row.error, row.cost_usd, row.created_at) == (text, cost, batch.rows[0].created_at)  # pyright: ignore[reportAttributeAccessIssue]
    assert (back.id, back.thread, back.session_id) == (batch.id, batch.thread, "s1")


async def test_rows_are_written_behind_the_call_and_the_recorder_closes_having_written_them(
    settings: Settings, engine: Engine
) -> None:
    recorder = Recorder(lambda: engine, settings.spool_dir / "records")
    for index in range(20):
        recorder.record([Delegation(request_id=f"r{index}", provider="p", model="m", status="ok")])
    await anyio.to_thread.run_sync(recorder.close)
    assert count(engine, Delegation) == 20 and recorder.spilled == 0


_DIES_AFTER_LOGGING = """
import os, sys
from pathlib import Path
from server.store.recorder import Batch
from server.store.models import Delegation
from server.store.record_log import WriteAheadLog
log = WriteAheadLog(Path(sys.argv[1]))
for index in range(3):
    log.append(Batch([Delegation(request_id=f"r{index}", provider="p", model="m", status="ok")]))
os._exit(0)  # as a killed process: nothing landed, the log left behind
"""


async def test_a_log_left_by_a_dead_process_lands_once_and_a_live_recorders_log_is_left_alone(
    settings: Settings, engine: Engine
) -> None:
    records = settings.spool_dir / "records"
    dead = await anyio.run_process([sys.executable, "-c", _DIES_AFTER_LOGGING, str(records)], check=True)
    assert dead.returncode == 0
    live = Recorder(lambda: engine, records)
    live._write_ahead(Batch([Delegation(request_id="live", provider="p", model="m", status="ok")]))  # pyright: ignore[reportPrivateUsage]
    assert len(record_log.log_files(records)) == 2
    assert record_batches.replay(engine, records) == 3
    assert record_batches.replay(engine, records) == 0
    with Session(engine) as db:
        assert sorted(db.exec(select(Delegation.request_id)).all()) == ["r0", "r1", "r2"]
    assert record_log.log_files(records) == [live._log.path if live._log else None]  # pyright: ignore[reportPrivateUsage]


async def test_a_recorders_log_goes_once_everything_in_it_landed(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record_log, "ROTATE_BATCHES", 5)
    records = settings.spool_dir / "records"
    recorder = Recorder(lambda: engine, records)
    for index in range(12):
        recorder.record([Delegation(request_id=f"r{index}", provider="p", model="m", status="ok")])
        assert await recorder.settled(20)
    assert len(record_log.log_files(records)) == 1  # rotated twice; the third log holds two landed batches
    await anyio.to_thread.run_sync(recorder.close)
    assert record_log.log_files(records) == [] and count(engine, Delegation) == 12
