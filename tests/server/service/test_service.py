"""The service behind every session: lifecycle, per-session identity, and the launcher's fallbacks.

Real processes throughout: the launcher as Claude Code runs it (``python3 -I -S hooks/launcher.py ...``), the
service it starts detached, MCP over the launcher's stdio, and the fake OpenAI API on loopback.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session as DbSession
from sqlmodel import select

from server.commands.service import query_status
from server.service.instance import Instance, is_running
from server.service.wire import PROTOCOL, run_dir, socket_path
from server.store.database import make_engine
from server.store.models import Delegation
from tests.e2e.claude import wait_until
from tests.fakes.openai_api import FakeOpenAI
from tests.server.service.launch import (
    SWITCHBOARD_ARGV,
    alive,
    service_env,
    service_pid,
    session,
    stop_service,
    wait_gone,
)

KEY_A = "sk-test-service-key-a-7f3c91"
KEY_B = "sk-test-service-key-b-2d84e0"
# Measured here: the launcher ends 20-120 ms after stdin EOF on a loaded machine.
EXIT_BOUND_S = 3.0


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["model-a", "model-b"]) as server:
        yield server


@pytest.fixture
def service_home(home: Path) -> Iterator[Path]:
    yield home
    stop_service(home)


def _config(path: Path, fake: FakeOpenAI, provider: str, model: str, key_env: str) -> Path:
    path.write_text(
        f'[providers.{provider}]\nbase_url = "{fake.base_url}"\napi_key_env = "{key_env}"\nmodels = ["{model}"]\n'
    )
    return path


def _delegations(home: Path) -> list[tuple[str | None, str, str]]:
    engine = make_engine(f"sqlite:///{home / 'switchboard.db'}")
    try:
        with DbSession(engine) as db:
            return sorted((row.session_id, row.model, row.status) for row in db.exec(select(Delegation)))
    finally:
        engine.dispose()


def test_a_session_starts_the_service_and_status_reports_it_privately(service_home: Path) -> None:
    with session(service_env(service_home)) as first:
        assert first.initialize()["result"]["serverInfo"]["name"] == "switchboard"
        status = query_status(service_home)
        cli = subprocess.run(
            [*SWITCHBOARD_ARGV, "service", "status", "--json"],
            env=service_env(service_home),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    assert status["running"] is True and status["pid"] == service_pid(service_home)
    assert status["version"] and isinstance(status["port"], int) and status["uptime_s"] >= 0
    assert status["socket"] == str(socket_path(service_home)) and status["sessions"] == 1
    assert json.loads(cli.stdout)["pid"] == status["pid"]
    assert stat.S_IMODE(run_dir(service_home).stat().st_mode) == 0o700
    assert stat.S_IMODE(socket_path(service_home).stat().st_mode) == 0o600
    assert stat.S_IMODE((run_dir(service_home) / "state.json").stat().st_mode) == 0o600


def test_two_concurrent_sessions_with_different_configs_keep_their_own_keys_rows_and_session_ids(
    service_home: Path, tmp_path: Path
) -> None:
    # Each fake takes only its own session's key: a key crossing sessions would be a 401, not an answer.
    with FakeOpenAI(["model-a"], api_key=KEY_A) as fake_a, FakeOpenAI(["model-b"], api_key=KEY_B) as fake_b:
        _two_sessions(service_home, tmp_path, fake_a, fake_b)
    written = [p for p in service_home.rglob("*") if p.is_file() and not p.is_socket()]
    assert any(p.name == "service.log" for p in written)
    assert [p for p in written if KEY_A.encode() in p.read_bytes() or KEY_B.encode() in p.read_bytes()] == []


def _two_sessions(service_home: Path, tmp_path: Path, fake_a: FakeOpenAI, fake_b: FakeOpenAI) -> None:
    config_a = _config(tmp_path / "a.toml", fake_a, "acme", "model-a", "ACME_KEY")
    config_b = _config(tmp_path / "b.toml", fake_b, "beta", "model-b", "BETA_KEY")
    env_a = service_env(
        service_home, SWITCHBOARD_CONFIG=str(config_a), CLAUDE_CODE_SESSION_ID="session-a", ACME_KEY=KEY_A
    )
    env_b = service_env(
        service_home, SWITCHBOARD_CONFIG=str(config_b), CLAUDE_CODE_SESSION_ID="session-b", BETA_KEY=KEY_B
    )
    with session(env_a) as a, session(env_b) as b:
        a.initialize()
        b.initialize()
        listed_a = a.call("providers")["structuredContent"]
        listed_b = b.call("providers")["structuredContent"]
        answer_a = a.call("delegate", task="say a")
        answer_b = b.call("delegate", task="say b")
        pids = {service_pid(service_home)}
        a.close()  # the service's one recorder outlives a session: b's next row still lands
        again_b = b.call("delegate", task="say b again")
    assert listed_a["routing_config"] == str(config_a) and listed_b["routing_config"] == str(config_b)
    assert not answer_a["isError"] and not answer_b["isError"] and not again_b["isError"], (answer_a, answer_b)
    assert len(pids) == 1 and None not in pids  # one service served both
    wait_until(lambda: len(_delegations(service_home)) == 3, 30, "the three delegation rows")
    assert _delegations(service_home) == [
        ("session-a", "model-a", "ok"),
        ("session-b", "model-b", "ok"),
        ("session-b", "model-b", "ok"),
    ]


def test_a_session_after_kill_9_of_the_service_clears_its_stale_socket_and_still_delegates(
    service_home: Path, tmp_path: Path, fake: FakeOpenAI
) -> None:
    config = _config(tmp_path / "a.toml", fake, "acme", "model-a", "ACME_KEY")
    env = service_env(service_home, SWITCHBOARD_CONFIG=str(config), ACME_KEY="sk-a", CLAUDE_CODE_SESSION_ID="s2")
    with session(env) as first:
        first.initialize()
        killed = service_pid(service_home)
    assert killed is not None
    os.kill(killed, 9)
    wait_gone(killed, 10, "the killed service")
    assert socket_path(service_home).exists()  # left behind: stale
    with session(env) as second:
        second.initialize()
        answer = second.call("delegate", task="still there?")
        replaced = service_pid(service_home)
    assert not answer["isError"], answer
    assert replaced is not None and replaced != killed
    assert ("s2", "model-a", "ok") in _delegations(service_home)


def test_two_services_started_at_once_leave_exactly_one_running(service_home: Path) -> None:
    env = service_env(service_home)
    processes = [subprocess.Popen([*SWITCHBOARD_ARGV, "service", "run"], env=env) for _ in range(2)]
    try:
        wait_until(lambda: any(p.poll() is not None for p in processes), 60, "one of the two to give way")
        loser = next(p for p in processes if p.poll() is not None)
        winner = next(p for p in processes if p is not loser)
        assert loser.returncode == 3 and winner.poll() is None
        wait_until(lambda: query_status(service_home).get("pid") == winner.pid, 60, "the winner to answer")
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=30)
    assert processes[0].returncode in (0, 3) and processes[1].returncode in (0, 3)
    assert not is_running(service_home)


def _hello(path: Path, stamp: str) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(str(path))
        sock.sendall(json.dumps({"protocol": PROTOCOL, "stamp": stamp, "cwd": "/", "env": {}}).encode() + b"\n")
        return json.loads(sock.makefile("rb").readline())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_launcher_of_newer_code_retires_the_old_service_after_its_last_session(service_home: Path) -> None:
    port = _free_port()
    env = service_env(service_home, SWITCHBOARD_SERVICE_PORT=str(port))
    with session(env) as old_session:
        old_session.initialize()
        old = service_pid(service_home)
        assert old is not None
        assert _hello(socket_path(service_home), "a-newer-build") == {"restart": True}
        assert not is_running(service_home) and not socket_path(service_home).exists()  # given up at once
        with session(env) as new_session:
            new_session.initialize()
            new = service_pid(service_home)
            assert new is not None and new != old
            # The dashboard and OTLP port passes to the new service once the old one has let go of it.
            wait_until(lambda: query_status(service_home).get("port") == port, 30, "the new service on the port")
            # The old service still finishes the session it has.
            assert old_session.request("tools/list")["result"]["tools"]
            assert alive(old)
    wait_gone(old, 30, "the retired service to exit after its last session")


def test_the_service_exits_after_its_idle_time_and_not_while_a_session_is_open(service_home: Path) -> None:
    env = service_env(service_home, SWITCHBOARD_SERVICE_IDLE_S="0.5")
    with session(env) as only:
        only.initialize()
        pid = service_pid(service_home)
        assert pid is not None
        time.sleep(1.5)  # three idle times with a session open (an elapsed-time check, not synchronisation)
        assert alive(pid) and only.request("tools/list")["result"]["tools"]
    wait_gone(pid, 30, "the idle service to exit")
    assert not is_running(service_home) and not socket_path(service_home).exists()


def test_the_launcher_serves_in_process_when_the_service_accepts_but_never_answers(home: Path) -> None:
    holder = Instance(home)
    assert holder.acquire()  # a wedged service: it holds the lock and its socket accepts, and says nothing
    hung = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hung.bind(str(holder.socket))
    hung.listen(8)
    try:
        started = time.monotonic()
        with session(service_env(home, SWITCHBOARD_LAUNCHER_TIMEOUT_S="1")) as fallback:
            assert fallback.initialize()["result"]["serverInfo"]["name"] == "switchboard"
            elapsed = time.monotonic() - started
            fallback.close()
            stderr = fallback.stderr_now()
    finally:
        hung.close()
        holder.release()
    assert elapsed >= 1.0
    lines = [line for line in stderr.splitlines() if line.startswith("switchboard launcher:")]
    assert len(lines) == 1 and "did not answer within 1 s" in lines[0] and "in-process" in lines[0]


def test_an_unwritable_home_makes_the_launcher_serve_in_process_with_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the home's parent should be")
    with session(service_env(blocker / "home", SWITCHBOARD_LAUNCHER_TIMEOUT_S="2")) as fallback:
        assert fallback.initialize()["result"]["serverInfo"]["name"] == "switchboard"
        fallback.close()
        stderr = fallback.stderr_now()
    lines = [line for line in stderr.splitlines() if line.startswith("switchboard launcher:")]
    assert len(lines) == 1 and "NotADirectoryError" in lines[0] and "in-process" in lines[0]


@pytest.mark.parametrize("how", ["stdin EOF", "SIGINT", "SIGTERM"])
def test_the_launcher_ends_promptly_on_stdin_eof_and_signals(service_home: Path, how: str) -> None:
    with session(service_env(service_home)) as only:
        only.initialize()
        started = time.monotonic()
        if how == "stdin EOF":
            code = only.close()
        else:
            only.process.send_signal(2 if how == "SIGINT" else 15)
            code = only.process.wait(timeout=EXIT_BOUND_S + 10)
        elapsed = time.monotonic() - started
    assert elapsed < EXIT_BOUND_S and (code == 0 if how == "stdin EOF" else code < 0)


def test_a_launcher_without_switchboard_home_uses_the_default_home(monkeypatch: pytest.MonkeyPatch) -> None:
    from server.service.wire import launcher_module
    from server.settings import default_home

    monkeypatch.delenv("SWITCHBOARD_HOME", raising=False)
    monkeypatch.delenv("CLAUDE_PLUGIN_DATA", raising=False)
    assert launcher_module().home() == str(default_home())
    assert sys.platform != "linux" or launcher_module().home().endswith("/switchboard")


def test_the_dashboard_command_points_at_the_service_when_the_service_holds_its_port(service_home: Path) -> None:
    with session(service_env(service_home)) as only:
        only.initialize()
        port = query_status(service_home)["port"]
        done = subprocess.run(
            [*SWITCHBOARD_ARGV, "dashboard", "--port", str(port)],
            env=service_env(service_home),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"the switchboard service serves the dashboard there: http://127.0.0.1:{port}/" in done.stderr


def test_service_start_then_stop_leaves_nothing_running_and_status_says_so(service_home: Path) -> None:
    env = service_env(service_home)

    def switchboard(*args: str) -> str:
        done = subprocess.run([*SWITCHBOARD_ARGV, *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "running, pid" in switchboard("service", "start", "--port", "0")
    pid = service_pid(service_home)
    assert pid is not None
    assert f"stopped (pid {pid})" in switchboard("service", "stop")
    assert not is_running(service_home) and not socket_path(service_home).exists()
    assert json.loads(switchboard("service", "status", "--json"))["running"] is False
    assert "not running" in switchboard("service", "stop")


def test_a_session_on_another_store_than_the_services_is_served_in_process(service_home: Path, tmp_path: Path) -> None:
    with session(service_env(service_home)) as first:
        first.initialize()  # the service runs, on the default store
    other = f"sqlite:///{tmp_path / 'other.db'}"
    with session(service_env(service_home, SWITCHBOARD_DATABASE_URL=other)) as elsewhere:
        assert elsewhere.initialize()["result"]["serverInfo"]["name"] == "switchboard"
        elsewhere.close()
        stderr = elsewhere.stderr_now()
    [line] = [line for line in stderr.splitlines() if line.startswith("switchboard launcher:")]
    assert "SWITCHBOARD_DATABASE_URL is not the service's" in line and "other.db" not in line
