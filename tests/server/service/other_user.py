"""A second, real Unix user for the tests of the service's socket: created for a test, removed after it.

Creating a user takes root and ``useradd``; a test that needs one skips with the reason where either is missing.
The other user runs only the standard library (``/usr/bin/python3``): the test's own interpreter may live in a
folder that user cannot enter.
"""

from __future__ import annotations

import json
import os
import pwd
import select
import shutil
import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"

LISTENER = textwrap.dedent(
    """
    import json, os, socket, sys
    folder, path, mode = sys.argv[1], sys.argv[2], int(sys.argv[3], 8)
    if folder:
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, mode)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o777)
    server.listen(8)
    server.settimeout(60)
    print(json.dumps({"ready": True}), flush=True)
    while True:
        try:
            conn, _ = server.accept()
        except (TimeoutError, OSError):
            break
        with conn:
            conn.settimeout(5)
            print(json.dumps({"connected": True}), flush=True)
            reader = conn.makefile("rb")
            try:
                hello = reader.readline()
                print(json.dumps({"got": hello.decode(errors="replace")}), flush=True)
                want = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN"]
                conn.sendall(json.dumps({"need": want}).encode() + b"\\n")
                print(json.dumps({"got": reader.readline().decode(errors="replace")}), flush=True)
                conn.sendall(json.dumps({"ok": False, "error": "planted"}).encode() + b"\\n")
            except OSError:
                pass
    """
)
"""A socket planted by someone else: it records what dials it and asks for keys as the service would."""


@dataclass(frozen=True)
class OtherUser:
    name: str
    uid: int
    gid: int


def require_root_and_useradd() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to create a second Unix user (useradd); run the suite as root in CI")
    if shutil.which("useradd") is None or shutil.which("userdel") is None:
        pytest.skip("needs useradd and userdel to create a second Unix user")
    if not Path(SYSTEM_PYTHON).is_file():
        pytest.skip(f"needs {SYSTEM_PYTHON} for the second user (the test's interpreter may be private to root)")


@contextmanager
def other_user() -> Iterator[OtherUser]:
    """A new system user with no home and no login shell, removed afterwards."""
    require_root_and_useradd()
    name = f"sbt{uuid.uuid4().hex[:10]}"
    command = ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
    subprocess.run(command, check=True, capture_output=True, timeout=30)
    try:
        entry = pwd.getpwnam(name)
        yield OtherUser(name, entry.pw_uid, entry.pw_gid)
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True, timeout=30)


class Planted:
    """The other user's listener process; :meth:`log` is everything it saw, once it has been stopped."""

    def __init__(self, user: OtherUser | None, folder: Path | None, path: Path, mode: int) -> None:
        kwargs = {} if user is None else {"user": user.uid, "group": user.gid, "extra_groups": []}
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, "-I", "-S", "-c", LISTENER, str(folder or ""), str(path), oct(mode)[2:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd="/",
            **kwargs,  # pyright: ignore[reportArgumentType]
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        line = self.process.stdout.readline() if ready else b""
        if not line:
            self.stop()
            raise AssertionError(f"the planted listener did not start: {self.process.stderr}")
        self._lines: list[dict[str, object]] = []

    def stop(self) -> list[dict[str, object]]:
        if self.process.poll() is None:
            self.process.kill()
        out, _ = self.process.communicate(timeout=30)
        self._lines = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
        return self._lines


@contextmanager
def planted(user: OtherUser | None, folder: Path | None, path: Path, mode: int = 0o700) -> Iterator[Planted]:
    listener = Planted(user, folder, path, mode)
    try:
        yield listener
    finally:
        listener.stop()
