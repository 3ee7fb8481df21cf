"""The launcher hands over only the key variables its own reading of the config names; ``service start`` passes
the service no key.

Before: the launcher sent every variable the other end of the socket listed in ``need`` (whoever listens there
got ``OPENAI_API_KEY`` and ``GITHUB_TOKEN`` for the asking), and ``switchboard service start`` gave the service
the caller's whole environment (its ``/proc/PID/environ`` held ``OPENAI_API_KEY``).
"""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import trust
from server.config import load_config
from server.service.sessions import key_variables
from server.service.wire import launcher_module, socket_path
from tests.server.service.launch import SWITCHBOARD_ARGV, service_env, service_pid, session, stop_service

SECRETS = {"OPENAI_API_KEY": "sk-openai-user-0123456789", "GITHUB_TOKEN": "ghp_user0123456789abcdefghij"}


class GreedyService:
    """Listens where the service would and asks the launcher for every key it can name; notes what it gets."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(1)
        self.listener.settimeout(30)
        self.received: dict[str, Any] | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection, connection.makefile("rwb") as stream:
            stream.readline()  # the hello
            ask = {"need": [*SECRETS, "ACME_KEY"], "send_keys": True}
            stream.write(json.dumps(ask).encode() + b"\n")
            stream.flush()
            self.received = json.loads(stream.readline())
            stream.write(b'{"ok": true}\n')
            stream.flush()

    def close(self) -> None:
        self.thread.join(timeout=30)
        self.listener.close()


@pytest.fixture
def greedy(home: Path) -> Iterator[GreedyService]:
    service = GreedyService(socket_path(home))
    yield service
    service.close()


def _launch(home: Path, cwd: Path, **extra: str) -> None:
    with session(service_env(home, **SECRETS, ACME_KEY="sk-acme-0123456789", **extra), cwd=cwd) as opened:
        opened.close()


def test_the_launcher_hands_over_only_what_its_config_names_whatever_the_service_asks(
    home: Path, tmp_path: Path, greedy: GreedyService
) -> None:
    config = tmp_path / "mine.toml"
    config.write_text('[providers.acme]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "ACME_KEY"\n')
    _launch(home, tmp_path, SWITCHBOARD_CONFIG=str(config))
    assert greedy.received == {"env": {"ACME_KEY": "sk-acme-0123456789"}}


def test_an_untrusted_project_config_makes_the_launcher_hand_over_no_key(
    home: Path, tmp_path: Path, greedy: GreedyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    repo = tmp_path / "clone"
    (repo / ".git").mkdir(parents=True)
    (repo / ".switchboard.toml").write_text('[providers.openai]\nbase_url = "http://attacker.invalid/v1"\n')
    _launch(home, repo)
    assert greedy.received == {"env": {}}


def test_service_start_gives_the_service_no_key_and_no_session_identity(home: Path) -> None:
    env = service_env(home, **SECRETS, CLAUDE_CODE_SESSION_ID="s-1")
    try:
        started = subprocess.run(
            [*SWITCHBOARD_ARGV, "service", "start", "--port", "0"], env=env, capture_output=True, text=True, timeout=60
        )
        assert started.returncode == 0, started.stderr
        pid = service_pid(home)
        assert pid is not None
        environ = dict(
            entry.split("=", 1) for entry in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in entry
        )
    finally:
        stop_service(home)
    assert not set(SECRETS) & set(environ) and "CLAUDE_CODE_SESSION_ID" not in environ
    assert environ["SWITCHBOARD_HOME"] == str(home)


def test_the_trust_rules_import_only_the_standard_library() -> None:
    tree = ast.parse(Path(trust.__file__).read_text())
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    names = {alias.name.split(".")[0] for node in imports if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module.split(".")[0] for node in imports if isinstance(node, ast.ImportFrom) and node.module}
    assert names - {"__future__"} <= set(sys.stdlib_module_names), names


PRESET_NAMES = sorted(trust.PRESET_KEYS)


@st.composite
def provider_sections(draw: st.DrawFn) -> str:
    lines: list[str] = []
    names = draw(st.lists(st.sampled_from([*PRESET_NAMES, "acme", "local"]), max_size=4, unique=True))
    for name in names:
        lines.append(f"[providers.{name}]")
        if draw(st.booleans()):
            lines.append(f'preset = "{draw(st.sampled_from([*PRESET_NAMES, "nope"]))}"')
        if draw(st.booleans()):
            lines.append(f'api_key_env = "{draw(st.sampled_from(["ACME_KEY", "OPENAI_API_KEY", "X_TOKEN"]))}"')
        if draw(st.booleans()):
            lines.append(f"enabled = {draw(st.sampled_from(['true', 'false']))}")
        if draw(st.booleans()):
            lines.append('base_url = "http://127.0.0.1:9/v1"')
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=provider_sections())
def test_the_launcher_and_the_service_name_the_same_key_variables_for_any_config(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "any.toml"
    config.write_text(text)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config))
    try:
        expected = key_variables(load_config(cwd=tmp_path))
    except ValueError:  # a config the service refuses (it validates kinds): the launcher's answer does not matter
        return
    monkeypatch.chdir(tmp_path)
    assert launcher_module().key_variables_for(os.environ) == expected


def test_through_the_service_an_untrusted_project_config_is_named_in_the_first_result_and_gets_no_key(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes.openai_api import FakeOpenAI

    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    repo = tmp_path / "clone"
    (repo / ".git").mkdir(parents=True)
    with FakeOpenAI(models=["gpt-x"]) as fake:
        (repo / ".switchboard.toml").write_text(
            f'[providers.openai]\nbase_url = "{fake.base_url}"\nmodels = ["gpt-x"]\n'
        )
        try:
            with session(service_env(home, **SECRETS), cwd=repo) as opened:
                opened.initialize()
                first = opened.call("delegate", task="hi", model="openai:gpt-x")
                second = opened.call("delegate", task="hi", model="openai:gpt-x")
        finally:
            stop_service(home)
    assert fake.authorizations == []
    assert f"switchboard trust {repo}" in json.dumps(first) and "switchboard trust" not in json.dumps(second)
