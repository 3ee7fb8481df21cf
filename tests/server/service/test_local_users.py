"""Another local user gets nothing from the service's socket: not a connection, not a handshake, not a key.

Real processes throughout: the launcher as Claude Code runs it, the service it starts, and a second Unix user
(created for the test with ``useradd``, removed after) who plants sockets and folders where the launcher looks.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.commands.service import query_status
from server.service.wire import PROTOCOL, build_stamp, launcher_module, run_dir, socket_path
from tests.server.service.launch import service_env, service_pid, session, stop_service
from tests.server.service.other_user import SYSTEM_PYTHON, other_user, planted, require_root_and_useradd

KEYS = {
    "OPENAI_API_KEY": "sk-victim-openai-1f2e3d",
    "ANTHROPIC_API_KEY": "sk-ant-victim-4c5b6a",
    "GITHUB_TOKEN": "ghp_victim7d8e9f",
}


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A world-writable sticky folder like /tmp (the test's own, so other tests' sockets are not disturbed)."""
    folder = Path(tempfile.mkdtemp(prefix="sb-shared-tmp-", dir="/tmp"))
    folder.chmod(0o1777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def long_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_tmp: Path) -> Iterator[Path]:
    """A SWITCHBOARD_HOME too deep for a socket path: the socket goes to a per-user folder elsewhere."""
    home = tmp_path / ("deep-" * 20) / "home"
    home.mkdir(parents=True)
    monkeypatch.setenv("SWITCHBOARD_HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(shared_tmp))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("CLAUDE_PLUGIN_DATA", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    yield home
    stop_service(home)


def _victim_env(home: Path, **extra: str) -> dict[str, str]:
    return service_env(home, SWITCHBOARD_LAUNCHER_TIMEOUT_S="5", **KEYS, **extra)


def _launcher_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("switchboard launcher:")]


def _leaked(log: list[dict[str, object]]) -> list[str]:
    text = json.dumps(log)
    return [name for name, value in KEYS.items() if value in text]


def test_a_socket_folder_another_user_created_first_is_never_dialled_and_the_session_is_served_in_process(
    long_home: Path,
) -> None:
    path = socket_path(long_home)
    assert len(str(run_dir(long_home) / "mcp.sock").encode()) > 100  # the per-user folder is in play
    with other_user() as mallory, planted(mallory, path.parent, path, mode=0o700) as listener:
        with session(_victim_env(long_home)) as victim:
            assert victim.initialize()["result"]["serverInfo"]["name"] == "switchboard"
            victim.close()
            stderr = victim.stderr_now()
        log = listener.stop()
    assert _leaked(log) == [] and log == [], log  # not even the hello (cwd, session id, config path) went out
    lines = _launcher_lines(stderr)
    assert len(lines) == 1, stderr
    assert str(path.parent) in lines[0] and f"uid {mallory.uid}" in lines[0] and "in-process" in lines[0]


def test_a_socket_another_user_planted_in_a_folder_left_open_is_not_dialled_and_the_service_takes_the_folder_back(
    long_home: Path,
) -> None:
    path = socket_path(long_home)
    path.parent.mkdir()
    path.parent.chmod(0o777)  # ours, but left open: anyone could put a socket in it
    with other_user() as mallory, planted(mallory, None, path) as listener:
        with session(_victim_env(long_home)) as victim:
            assert victim.initialize()["result"]["serverInfo"]["name"] == "switchboard"
            status = query_status(long_home)
            victim.close()
            stderr = victim.stderr_now()
        log = listener.stop()
    assert _leaked(log) == [] and log == [], log
    assert _launcher_lines(stderr) == [], stderr  # served by the real service, which replaced the planted socket
    assert status["running"] is True and status["pid"] == service_pid(long_home)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.lstat().st_uid == os.geteuid()


def test_a_socket_file_of_the_user_served_by_another_users_process_is_refused_by_its_peer_credentials(
    long_home: Path, shared_tmp: Path
) -> None:
    path = socket_path(long_home)
    with other_user() as mallory:
        own = shared_tmp / f"{mallory.name}-folder"
        with planted(mallory, own, own / "s.sock") as listener:
            # Everything on disk says "yours": the folder is the user's and 0700, the socket file too.
            path.parent.mkdir(mode=0o700)
            os.rename(own / "s.sock", path)
            os.chown(path, os.geteuid(), os.getegid())
            with session(_victim_env(long_home)) as victim:
                assert victim.initialize()["result"]["serverInfo"]["name"] == "switchboard"
                victim.close()
                stderr = victim.stderr_now()
            log = listener.stop()
    assert _leaked(log) == [], log
    assert [entry for entry in log if entry.get("got")] == [], log  # connected, then closed before the hello
    lines = _launcher_lines(stderr)
    assert len(lines) == 1 and f"uid {mallory.uid}" in lines[0] and "in-process" in lines[0], stderr


CLIENT = """
import json, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(20)
try:
    sock.connect(sys.argv[1])
    sock.sendall(sys.argv[2].encode() + b"\\n")
    print(json.dumps({"answer": sock.makefile("rb").readline().decode(errors="replace")}))
except (ConnectionResetError, BrokenPipeError):  # hung up on, with the hello unread
    print(json.dumps({"answer": ""}))
except OSError as exc:
    print(json.dumps({"error": type(exc).__name__}))
"""


def test_the_service_answers_no_connection_from_another_user_even_when_its_socket_is_reachable(
    shared_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_root_and_useradd()
    home = shared_tmp / "home"
    home.mkdir(mode=0o711)
    monkeypatch.setenv("SWITCHBOARD_HOME", str(home))
    try:
        with session(service_env(home)) as owner:
            owner.initialize()
            path = socket_path(home)
            # A slip that makes the socket reachable (a folder opened by hand, a wrong umask in some release):
            # the service's own check of its peer is what is left.
            path.parent.chmod(0o711)
            path.chmod(0o666)
            hello = json.dumps({"protocol": PROTOCOL, "stamp": build_stamp(), "cwd": "/", "env": {}})
            with other_user() as mallory:
                done = subprocess.run(
                    [SYSTEM_PYTHON, "-I", "-S", "-c", CLIENT, str(path), hello],
                    user=mallory.uid,
                    group=mallory.gid,
                    extra_groups=[],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    cwd="/",
                )
            assert owner.request("tools/list")["result"]["tools"]  # the owner's session is untouched
        log = (run_dir(home) / "service.log").read_text()
    finally:
        stop_service(home)
    assert json.loads(done.stdout) == {"answer": ""}, done.stdout + done.stderr
    assert f"uid {mallory.uid}" in log


def test_a_deep_home_puts_the_socket_under_xdg_runtime_dir_when_it_is_set(
    long_home: Path, shared_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = shared_tmp / "run-user"  # short, like /run/user/UID
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    path = socket_path(long_home)
    assert path.parent == runtime / "switchboard"
    assert launcher_module().socket_path(str(long_home)) == str(path)
    with session(_victim_env(long_home, XDG_RUNTIME_DIR=str(runtime))) as only:
        assert only.initialize()["result"]["serverInfo"]["name"] == "switchboard"
        status = query_status(long_home)
        only.close()
        assert _launcher_lines(only.stderr_now()) == []
    assert status["running"] is True and status["socket"] == str(path)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
