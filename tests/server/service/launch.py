"""Drive the launcher and the service as Claude Code does: real processes, MCP over the launcher's stdio."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from server.service.instance import is_running, read_state
from tests.e2e.claude import wait_until

REPO = Path(__file__).resolve().parents[3]
LAUNCHER = REPO / "hooks" / "launcher.py"
PYTHON = str(Path(sys.executable).resolve())
SWITCHBOARD_ARGV = [sys.executable, "-P", "-m", "server"]
LAUNCHER_ARGV = [PYTHON, "-I", "-S", str(LAUNCHER), *SWITCHBOARD_ARGV]
INIT_PARAMS = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}
# A cold service imports the MCP SDK and the store (seconds on a loaded 2-core machine); warm answers take ms.
REPLY_BOUND_S = 60.0


def service_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment a session's launcher gets: the test's, a private home, an ephemeral service port."""
    env = {**os.environ, "SWITCHBOARD_HOME": str(home), "SWITCHBOARD_SERVICE_PORT": "0"}
    env.pop("SWITCHBOARD_DATABASE_URL", None)
    return {**env, **extra}


class Session:
    """One launcher process, spoken to in JSON-RPC lines with every read bounded."""

    def __init__(self, env: dict[str, str], cwd: Path | None = None) -> None:
        self.process = subprocess.Popen(
            LAUNCHER_ARGV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd
        )
        self._next_id = 1
        self.stderr_text: str | None = None

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def receive(self, timeout_s: float = REPLY_BOUND_S) -> dict[str, Any]:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout_s)
        assert ready, f"no answer within {timeout_s} s"
        line = self.process.stdout.readline()
        assert line, f"the launcher closed stdout; stderr: {self.stderr_now()}"
        return json.loads(line)

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or {}})
        while True:
            answer = self.receive()
            if answer.get("id") == self._next_id:
                return answer

    def initialize(self) -> dict[str, Any]:
        self.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT_PARAMS})
        answer = self.receive()
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return answer

    def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        return self.request("tools/call", {"name": tool, "arguments": arguments})["result"]

    def stderr_now(self) -> str:
        """Everything the launcher wrote on stderr, once it has exited."""
        if self.stderr_text is None:
            if self.process.poll() is None or self.process.stderr is None:
                return "(still running)"
            self.stderr_text = self.process.stderr.read().decode(errors="replace")
        return self.stderr_text

    def close(self, timeout_s: float = 10.0) -> int:
        """Close stdin as Claude Code does at exit; returns the exit code."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            return self.process.wait(timeout=timeout_s)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=10)
            self.stderr_now()
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()


@contextmanager
def session(env: dict[str, str], cwd: Path | None = None) -> Iterator[Session]:
    opened = Session(env, cwd)
    try:
        yield opened
    finally:
        opened.close()


def service_pid(home: Path) -> int | None:
    state = read_state(home)
    return int(state["pid"]) if state and is_running(home) else None


def stop_service(home: Path) -> None:
    """End whatever service runs for ``home`` (tests leave nothing behind)."""
    pid = service_pid(home)
    if pid is None:
        return
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not is_running(home), 10, "the service to let go of its lock")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child of ours that exited is a zombie until reaped; /proc says so.
    with suppress(OSError):
        return " Z " not in Path(f"/proc/{pid}/stat").read_text()
    return True


def wait_gone(pid: int, timeout_s: float, what: str) -> float:
    started = time.monotonic()
    wait_until(lambda: not alive(pid), timeout_s, what)
    return time.monotonic() - started
