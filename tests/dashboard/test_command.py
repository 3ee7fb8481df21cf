"""``switchboard dashboard``: binds loopback, refuses other addresses without a token, never prints the token."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from server.cli import main

STARTUP_S = 30.0


class Run:
    """A ``switchboard dashboard`` subprocess; everything it wrote to stderr is kept."""

    def __init__(self, args: tuple[str, ...], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "dashboard", *args],
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.seen.append(line)
            self.lines.put(line)

    def url(self) -> str:
        line = self.lines.get(timeout=STARTUP_S)
        found = re.search(r"(http://\S+?)/", line)
        assert found, line
        return found.group(1)

    def stop(self) -> str:
        """Stop the server; all of its stderr."""
        self.process.terminate()
        self.process.wait(timeout=15)
        self._reader.join(timeout=15)
        assert self.process.stderr is not None
        self.process.stderr.close()
        return "".join(self.seen)


@contextmanager
def dashboard(*args: str, env: dict[str, str]) -> Generator[Run]:
    run = Run(args, env)
    try:
        yield run
    finally:
        run.stop()


@pytest.fixture
def env(home: Path, database_url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k != "SWITCHBOARD_DASHBOARD_TOKEN"}
    return {**clean, "SWITCHBOARD_HOME": str(home), "SWITCHBOARD_DATABASE_URL": database_url}


def test_dashboard_serves_health_on_loopback_with_an_ephemeral_port(env: dict[str, str]) -> None:
    with dashboard("--port", "0", "--no-ingest", env=env) as run:
        url = run.url()
        assert url.startswith("http://127.0.0.1:")
        response = httpx.get(f"{url}/health", timeout=10)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert httpx.get(f"{url}/", timeout=10).status_code == 200


def test_dashboard_refuses_a_public_address_without_a_token(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SWITCHBOARD_DASHBOARD_TOKEN", raising=False)
    assert main(["dashboard", "--host", "0.0.0.0", "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert "SWITCHBOARD_DASHBOARD_TOKEN" in error
    assert "refusing" in error


def test_dashboard_with_a_token_requires_it_and_never_prints_it(env: dict[str, str]) -> None:
    token = "tok-9f8e7d6c5b4a"
    with dashboard(
        "--host", "0.0.0.0", "--port", "0", "--no-ingest", env={**env, "SWITCHBOARD_DASHBOARD_TOKEN": token}
    ) as run:
        url = run.url()
        local = url.replace("0.0.0.0", "127.0.0.1")
        assert httpx.get(f"{local}/api/overview", timeout=10).status_code == 401
        ok = httpx.get(f"{local}/api/overview", headers={"authorization": f"Bearer {token}"}, timeout=10)
        assert ok.status_code == 200
        output = run.stop()
    assert "token required: SWITCHBOARD_DASHBOARD_TOKEN" in output
    assert token not in output


def test_a_taken_port_is_reported_not_raised(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["dashboard", "--port", str(port), "--no-ingest"]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
