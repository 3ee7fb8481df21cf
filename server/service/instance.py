"""One service per user and ``SWITCHBOARD_HOME``: the lock, the state file, and who holds them.

The lock is an ``flock`` on ``service/lock``: the kernel drops it when its holder dies (``kill -9`` included), so a
lock that can be taken means no service runs, and a socket file left behind is stale and safe to remove. The
folder is 0700 and the files in it 0600: the socket hands out MCP sessions that spend the user's keys. The socket's
folder (the same one, or a per-user folder elsewhere for a deep home) must be the user's own: one that another user
made first is refused (:class:`UnsafeFolder`), one the user left open is closed to 0700 again, and the socket
found in it is replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from server.service.wire import run_dir, socket_path

__all__ = ["Instance", "ServiceState", "UnsafeFolder", "is_running", "read_state"]

LOCK_FILE = "lock"
STATE_FILE = "state.json"


@dataclass(frozen=True)
class ServiceState:
    """What ``switchboard service status`` reports when the service cannot be asked (written at start)."""

    pid: int
    version: str
    stamp: str
    socket: str
    port: int | None
    started_at: float
    """Seconds since the epoch."""


class UnsafeFolder(OSError):
    """The socket's folder is another user's (or a link): the service will not listen there."""


def _own_folder(path: Path) -> Path:
    """``path`` as a folder of the user's with mode 0700, made if missing; never one another user made first."""
    with contextlib.suppress(FileExistsError):  # a file or a link where the folder should be: refused below
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFolder(f"the socket folder {path} is not a folder (a link or a file): remove it")
    if info.st_uid != os.geteuid():
        raise UnsafeFolder(f"the socket folder {path} belongs to uid {info.st_uid}, not to uid {os.geteuid()}")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)  # ours, but open to others: whatever they put in it is removed below
    return path


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode is cut by the umask, and an older folder may be wider
    return path


def read_state(home: Path) -> dict[str, Any] | None:
    """The state file's contents, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads((run_dir(home) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None  # pyright: ignore[reportUnknownVariableType]


def is_running(home: Path) -> bool:
    """Whether a service holds the lock for ``home`` (taking it for a moment when nobody does)."""
    try:
        fd = os.open(run_dir(home) / LOCK_FILE, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


class Instance:
    """The running service's claim on ``home``: :meth:`acquire`, then :meth:`publish`, then :meth:`release`."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.folder = run_dir(home)
        self.socket = socket_path(home)
        self._lock_fd: int | None = None
        self._socket_inode: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False when another service holds it. Clears a stale socket once held.

        Raises:
            UnsafeFolder: the socket's folder is another user's.
        """
        _private_dir(self.folder)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        try:
            _own_folder(self.socket.parent)
        except OSError:
            self.release()
            raise
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()  # we hold the lock: whoever made this socket is gone, or was never us
        return True

    def publish(self, state: ServiceState) -> None:
        """Note the bound socket (so :meth:`release` removes only ours) and write the state file (0600)."""
        self._socket_inode = self.socket.stat().st_ino
        os.chmod(self.socket, 0o600)
        temporary = self.folder / f"{STATE_FILE}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(state), handle)
        temporary.replace(self.folder / STATE_FILE)

    def release(self) -> None:
        """Remove our socket and state file and drop the lock: a new service may start at once."""
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            if self._socket_inode is not None and self.socket.stat().st_ino == self._socket_inode:
                self.socket.unlink()
        with contextlib.suppress(OSError):
            state = read_state(self.home)
            if state is not None and state.get("pid") == os.getpid():
                (self.folder / STATE_FILE).unlink()
        os.close(self._lock_fd)
        self._lock_fd = None
