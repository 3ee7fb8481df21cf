"""A paid answer's rows survive the client closing while another process holds the store (issue 18, item 1).

Claude Code ends its MCP servers within ~100 ms of exiting (bench/bench_claude_exit.py), far inside SQLite's busy
timeout: rows still waiting for the store's lock then must already be on disk. Before write-ahead, ``serve`` was
stopped while its recorder waited for the lock, and the ``delegation`` row never landed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from sqlmodel import Session, col, func, select

from server.store.database import make_engine, migrate
from server.store.models import Delegation, RecordBatch
from tests.fakes.openai_api import FakeOpenAI
from tests.server.service.launch import service_env, session, stop_service

pytestmark = pytest.mark.anyio

SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))

_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
"""


@contextmanager
def store_held_elsewhere(database: Path) -> Iterator[None]:
    """Another process holds SQLite's write lock (``BEGIN EXCLUSIVE``) until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().startswith(b"locked")
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        assert holder.stdout is not None
        holder.stdout.close()


def a_store(home: Path) -> tuple[str, Path]:
    database = home / "records-at-exit.db"  # SQLite whatever CI's store is: the holder takes SQLite's lock
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url, database


def a_config(tmp_path: Path, fake: FakeOpenAI) -> Path:
    config = tmp_path / "switchboard.toml"
    config.write_text(
        f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_env = "ACME_KEY"\nmodels = ["model-a"]\n'
    )
    return config


def ingest(env: dict[str, str]) -> None:
    subprocess.run([SWITCHBOARD, "ingest"], env=env, capture_output=True, timeout=120, check=True)


def delegations(url: str) -> tuple[list[tuple[str, str]], int]:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            rows = [(row.model, row.status) for row in db.exec(select(Delegation))]
            marks = db.exec(select(func.count()).select_from(RecordBatch).where(col(RecordBatch.id) != "")).one()
        return rows, marks
    finally:
        engine.dispose()


async def test_serve_closed_by_its_client_while_another_process_holds_the_store_loses_no_row(
    home: Path, tmp_path: Path
) -> None:
    url, database = a_store(home)
    with FakeOpenAI(models=["model-a"]) as fake:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "SWITCHBOARD_HOME": str(home),
            "SWITCHBOARD_CONFIG": str(a_config(tmp_path, fake)),
            "SWITCHBOARD_DATABASE_URL": url,
            "ACME_KEY": "k",
            "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        }
        params = StdioServerParameters(command=SWITCHBOARD, args=["serve", "--no-ingest"], env=env)
        with store_held_elsewhere(database):
            with anyio.fail_after(90):
                async with Client(params, read_timeout_seconds=60) as client:
                    answer = await client.call_tool("delegate", {"task": "say hi", "task_type": "general"})
                    assert not answer.is_error, answer.content
                # The client closed the server (stdin EOF, then SIGTERM after 2 s) with the store still held.
            assert delegations_pending(home)
    for _ in range(2):  # a second ingest lands nothing twice
        ingest(env)
    assert delegations(url) == ([("model-a", "ok")], 1)


def delegations_pending(home: Path) -> list[Path]:
    """The write-ahead logs and spilled batches waiting under the home."""
    records = home / "spool" / "records"
    return sorted([*records.glob("log/*.jsonl"), *records.glob("new/*.json")])


def test_the_service_stopped_while_another_process_holds_the_store_loses_no_row(home: Path, tmp_path: Path) -> None:
    url, database = a_store(home)
    with FakeOpenAI(models=["model-a"]) as fake:
        env = service_env(
            home, SWITCHBOARD_CONFIG=str(a_config(tmp_path, fake)), SWITCHBOARD_DATABASE_URL=url, ACME_KEY="k"
        )
        try:
            with store_held_elsewhere(database):
                with session(env) as client:
                    client.initialize()
                    answer = client.call("delegate", task="say hi", task_type="general")
                    assert not answer["isError"], answer
                    # The answer was returned: its rows are durable now. SIGKILL, as a machine shutting down would.
                    stop_service(home)
                assert delegations_pending(home)
        finally:
            stop_service(home)
    for _ in range(2):
        ingest(env)
    assert delegations(url) == ([("model-a", "ok")], 1)
