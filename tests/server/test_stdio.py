"""``switchboard serve`` over stdio ends promptly and cleanly on stdin EOF, SIGINT and SIGTERM.

Claude Code sends SIGINT to its stdio MCP servers at exit and SIGTERM ~100 ms later; before this, the server
never ended on SIGINT while stdin stayed open, and SIGTERM killed it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from server.store.database import make_engine
from server.store.models import Delegation
from tests.e2e.claude import wait_until
from tests.fakes.openai_api import FakeOpenAI, Reply

SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))
# Measured here: ~20-40 ms; the bound leaves room for a loaded machine.
EXIT_BOUND_S = 3.0


def send(process: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert process.stdin is not None
    process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()


def receive(process: subprocess.Popen[bytes]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, "the server closed stdout"
    return json.loads(line)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["model-a"]) as server:
        yield server


@pytest.fixture
def serving(home: Path, tmp_path: Path, fake: FakeOpenAI) -> Iterator[subprocess.Popen[bytes]]:
    """A ``switchboard serve`` past the initialize handshake, with one provider: the fake OpenAI API."""
    config = tmp_path / "switchboard.toml"
    config.write_text(
        f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_env = "ACME_KEY"\nmodels = ["model-a"]\n'
    )
    env = {**os.environ, "SWITCHBOARD_CONFIG": str(config), "ACME_KEY": "sk-test-acme"}
    env.pop("SWITCHBOARD_DATABASE_URL", None)
    process = subprocess.Popen(
        [SWITCHBOARD, "serve", "--no-ingest"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}
        send(process, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
        assert receive(process)["result"]["serverInfo"]["name"] == "switchboard"
        send(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def exit_time(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    started = time.monotonic()
    code = process.wait(timeout=EXIT_BOUND_S + 10)
    return code, time.monotonic() - started


def test_serve_exits_promptly_when_stdin_closes(serving: subprocess.Popen[bytes]) -> None:
    assert serving.stdin is not None
    serving.stdin.close()
    code, elapsed = exit_time(serving)
    assert code == 0 and elapsed < EXIT_BOUND_S


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_exits_promptly_and_cleanly_on_a_signal_while_stdin_stays_open(
    serving: subprocess.Popen[bytes], signum: signal.Signals
) -> None:
    serving.send_signal(signum)
    code, elapsed = exit_time(serving)
    assert code == 0 and elapsed < EXIT_BOUND_S  # 0, not -signum: the server shut down, it was not killed


def test_a_request_larger_than_a_pipe_buffer_reaches_the_server_whole(serving: subprocess.Popen[bytes]) -> None:
    output_id = "x" * 200_000
    call = {"name": "get_output", "arguments": {"output_id": output_id}}
    send(serving, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
    answer = receive(serving)
    assert answer["id"] == 2 and answer["result"]["isError"]
    assert f"no stored output with id {output_id!r}" in answer["result"]["content"][0]["text"]


def test_a_delegate_cut_short_by_sigint_is_recorded_as_cancelled_before_the_server_exits(
    serving: subprocess.Popen[bytes], fake: FakeOpenAI, home: Path
) -> None:
    fake.script("model-a", Reply(kind="hang"))
    send(
        serving,
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "delegate", "arguments": {"task": "wait"}},
        },
    )
    wait_until(lambda: fake.requests, 30, "the delegate's request at the fake API")
    serving.send_signal(signal.SIGINT)
    code, elapsed = exit_time(serving)
    assert code == 0 and elapsed < EXIT_BOUND_S
    engine = make_engine(f"sqlite:///{home / 'switchboard.db'}")
    with Session(engine) as db:
        rows = [(row.model, row.status) for row in db.exec(select(Delegation))]
    engine.dispose()
    assert rows == [("model-a", "cancelled")]
