"""The real Claude Code in its interactive terminal UI, on a pseudo-terminal (the status line shows only there)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte

from tests.e2e.claude import CLAUDE

__all__ = ["Terminal", "trust_project"]

COLUMNS, LINES = 160, 40


def trust_project(user_home: Path, project: Path, api_key: str) -> None:
    """Answer the first-run questions ahead: onboarding done, this folder trusted, the API key approved."""
    path = user_home / ".claude.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(hasCompletedOnboarding=True, theme="dark")
    data["customApiKeyResponses"] = {"approved": [api_key[-20:]], "rejected": []}
    projects = data.setdefault("projects", {})
    entry = projects.setdefault(str(project.resolve()), {})
    entry.update(hasTrustDialogAccepted=True, hasCompletedProjectOnboarding=True)
    path.write_text(json.dumps(data))


class Terminal:
    """``claude`` on a 160x40 pseudo-terminal; :attr:`screen` is what a person would see now.

    Claude Code redraws only the cells that changed, so the bytes it wrote are no transcript: a VT100 screen
    (pyte) replays them.
    """

    def __init__(self, cwd: Path, env: dict[str, str], debug_log: Path) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self._master = master
        self._screen = pyte.Screen(COLUMNS, LINES)
        self._stream = pyte.ByteStream(self._screen)
        self.process = subprocess.Popen(
            [str(CLAUDE), "--debug-file", str(debug_log)],
            cwd=cwd,
            env={**env, "TERM": "xterm-256color"},
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)

    @property
    def screen(self) -> str:
        return "\n".join(line.rstrip() for line in self._screen.display)

    def pump(self, seconds: float) -> None:
        """Read what it draws for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self._master], [], [], min(left, 0.1))
            if ready:
                try:
                    self._stream.feed(os.read(self._master, 65536))
                except OSError:
                    return

    def wait_for(self, pattern: str, timeout_s: float, count: int = 1) -> re.Match[str]:
        """The last match of ``pattern`` on the screen once it shows ``count`` of them; fails after ``timeout_s``."""
        compiled = re.compile(pattern)
        self.wait_until(lambda screen: len(compiled.findall(screen)) >= count, timeout_s, pattern)
        return list(compiled.finditer(self.screen))[-1]

    def wait_until(self, predicate: Callable[[str], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.pump(0.2)
            if predicate(self.screen):
                return
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what!r}; the screen:\n{self.screen}")

    def type(self, line: str) -> None:
        """Type ``line``, then Enter once the input box has drawn it (Enter typed with the text is a newline)."""
        os.write(self._master, line.encode())
        self.pump(0.5)
        os.write(self._master, b"\r")

    def close(self, timeout_s: float = 15) -> None:
        """``/exit`` (Claude Code saves the session's cost as it exits), then end it in any case."""
        if self.process.poll() is None:
            self.type("/exit")
            try:
                deadline = time.monotonic() + timeout_s
                while self.process.poll() is None and time.monotonic() < deadline:
                    self.pump(0.2)
            finally:
                if self.process.poll() is None:
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout_s)
        os.close(self._master)
