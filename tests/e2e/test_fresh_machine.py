"""The README's fresh-machine command ends in ``switchboard dashboard``: it leaves a working service behind, and the
first real Claude Code session finds its dashboard and OTLP receiver on the configured port.

The venv and ``pip install -e .`` parts of the command are this checkout's ``.venv`` here (a fresh install takes
minutes on a loaded machine; its size and time are measured in the report of issue 19).
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from server.commands.service import query_status
from server.page_token import page_token, page_url
from server.store.database import make_engine
from server.store.models import ApiRequest
from tests.e2e.claude import SWITCHBOARD, claude_env, run_claude, run_switchboard, wait_until
from tests.fakes.anthropic_api import AnthropicFake, Turn, Usage, serve_anthropic
from tests.server.service.launch import stop_service

pytestmark = pytest.mark.claude


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_fresh_machine_command_leaves_a_service_whose_page_and_receiver_serve_the_first_session(
    tmp_path: Path,
) -> None:
    user, project = tmp_path / "user", tmp_path / "proj"
    user.mkdir()
    project.mkdir()
    state = user / ".local" / "share" / "switchboard"  # the default home of a fresh HOME
    port = _free_port()
    config = user / ".config" / "switchboard" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f"[dashboard]\nport = {port}\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(user), "LANG": "C.UTF-8"}
    try:
        done = subprocess.run([str(SWITCHBOARD), "dashboard"], env=env, capture_output=True, text=True, timeout=120)
        url = page_url(port, page_token(state))
        assert (done.returncode, done.stdout) == (0, f"{url}\n"), done.stderr
        assert httpx.get(url, timeout=10, follow_redirects=True).status_code == 200
        assert query_status(state)["port"] == port
        run_switchboard("install", "--user", "--otel", env=env)
        with serve_anthropic(AnthropicFake(default=Turn(text="fine.", usage=Usage(500, 5)))) as api:
            claude = claude_env(user, api)
            claude.pop("DISABLE_TELEMETRY")
            result = run_claude("hello", project, claude, tmp_path / "run", allowed_tools=())
        assert result.returncode == 0 and result.output["result"] == "fine.", result.stderr
        status = query_status(state)
        assert status["running"] and status["port"] == port
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).json()["status"] == "ok"
        engine = make_engine(f"sqlite:///{state / 'switchboard.db'}")
        try:

            def received() -> bool:
                with Session(engine) as db:
                    return (
                        db.exec(select(ApiRequest).where(ApiRequest.session_id == result.output["session_id"])).first()
                        is not None
                    )

            wait_until(received, 30, "Claude Code's telemetry in the service's OTLP receiver")
        finally:
            engine.dispose()
    finally:
        stop_service(state)
