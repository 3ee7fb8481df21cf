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
        self.seen_url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.seen.append(line)
            self.lines.put(line)

    def url(self) -> str:
        """The printed address without its path and token."""
        found = re.search(r"(http://\S+?)/", self.page_url())
        assert found
        return found.group(1)

    def page_url(self) -> str:
        """The whole address printed, token included when one was."""
        if not self.seen_url:
            line = self.lines.get(timeout=STARTUP_S)
            found = re.search(r"http://\S+", line)
            assert found, line
            self.seen_url = found.group(0)
        return self.seen_url

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


def test_on_loopback_the_page_answers_only_the_token_it_printed_which_becomes_a_cookie(
    env: dict[str, str], home: Path
) -> None:
    with dashboard("--port", "0", "--no-ingest", env=env) as run:
        url, printed = run.url(), run.page_url()
        token = (home / "page_token").read_text().strip()
        assert printed == f"{url}/?token={token}"
        assert (home / "page_token").stat().st_mode & 0o777 == 0o600
        for path in ("/", "/sessions", "/api/overview", "/api/sessions", "/events", "/static/app.js"):
            assert httpx.get(url + path, timeout=10).status_code == 401, path
        assert httpx.get(f"{url}/?token=wrong-{token}", timeout=10).status_code == 401
        entered = httpx.get(printed, timeout=10)
        assert entered.status_code == 303 and entered.headers["location"] == f"{url}/"
        cookie = entered.cookies["switchboard_token"]
        with httpx.Client(cookies={"switchboard_token": cookie}, timeout=10) as browser:
            assert browser.get(f"{url}/api/overview").status_code == 200
            assert browser.get(f"{url}/").status_code == 200
        bearer = httpx.get(f"{url}/api/sessions", headers={"authorization": f"Bearer {token}"}, timeout=10)
        assert bearer.status_code == 200


def test_a_second_dashboard_prints_the_same_token(env: dict[str, str]) -> None:
    with dashboard("--port", "0", "--no-ingest", env=env) as first:
        token = first.page_url().split("?token=")[1]
    with dashboard("--port", "0", "--no-ingest", env=env) as second:
        assert second.page_url().split("?token=")[1] == token


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
