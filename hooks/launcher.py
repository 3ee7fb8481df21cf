#!/usr/bin/env python3
"""The MCP command Claude Code runs: relay the session's MCP stream to the warm switchboard service.

Run as ``python3 -I -S launcher.py SWITCHBOARD...`` where ``SWITCHBOARD...`` is the argv that runs the
``switchboard`` command (e.g. ``/venv/bin/python -P -m server``). Standard library only, importing nothing of the
package: a ``switchboard serve`` spends 0.6-1.7 s importing the MCP SDK before it can answer, this ~20 ms.

It connects to the service's Unix socket under ``SWITCHBOARD_HOME`` (starting the service detached when nothing
listens), and only to a socket that is the user's: in a folder the user owns with mode 0700, a socket file the user
owns, and, on Linux, a listening process of the user's own uid (``SO_PEERCRED``).
It says who it is (build stamp, working directory, session id, config file), hands over the key variables
that its own reading of the session's config names (``server/trust.py``'s rules: an untrusted project config names
none; never a list the other side asks for), then copies bytes both ways until either side ends.
When the service cannot be reached in time, or the home is unwritable, it becomes ``switchboard serve`` (exec)
after one line on stderr: Claude Code never sees a dead server.

The service imports this file for :func:`home`, :func:`socket_path`, :func:`build_stamp` and the wire format, so
the two sides cannot disagree on them.
"""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import signal
import socket
import stat
import sys
import time

TYPE_CHECKING = False  # importing typing would cost ~5 ms on every session start
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, NoReturn

PROTOCOL = 1
TIMEOUT_ENV = "SWITCHBOARD_LAUNCHER_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 3.0
"""Claude Code's first probe waits 3 s; past that a plain ``serve`` is the quicker way to a live server."""
MAX_LINE = 1 << 20
IDENTITY_ENV = (
    "CLAUDE_CODE_SESSION_ID",
    "CLAUDE_PROJECT_DIR",
    "SWITCHBOARD_CONFIG",
    "MCP_TOOL_TIMEOUT",
    "SWITCHBOARD_DATABASE_URL",  # the service serves only sessions of its own store; others are served in-process
)
SERVICE_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "SWITCHBOARD_HOME",
    "SWITCHBOARD_DATABASE_URL",
    "SWITCHBOARD_SERVICE_IDLE_S",
    "SWITCHBOARD_SERVICE_PORT",
    "CLAUDE_PLUGIN_DATA",
    "XDG_DATA_HOME",
    "XDG_CONFIG_HOME",
    "XDG_RUNTIME_DIR",  # where the socket of a deep home lives: the service must put it where launchers look
)
"""What the detached service inherits: where things live, never a session's keys or identity."""
_SOCKET_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on macOS
_CHUNK = 65536


def home() -> str:
    """SWITCHBOARD_HOME, resolved as server.settings does (``CLAUDE_PLUGIN_DATA``, else the user data dir)."""
    for name in ("SWITCHBOARD_HOME", "CLAUDE_PLUGIN_DATA"):
        if os.environ.get(name):
            return os.environ[name]
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/switchboard")
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(data, "switchboard")


def run_dir(home_dir: str) -> str:
    """The service's private folder (0700): lock, state file, and the socket when its path is short enough."""
    return os.path.join(home_dir, "service")


def _fits(path: str) -> bool:
    return len(path.encode()) <= _SOCKET_MAX


def socket_dir(home_dir: str) -> str:
    """The folder of the service's socket: :func:`run_dir`, unless the home is too deep for ``sun_path``.

    A deep home's socket goes to ``$XDG_RUNTIME_DIR/switchboard`` (the per-user runtime folder of systemd and the
    XDG spec, 0700, removed at logout) where that is set, else ``${TMPDIR:-/tmp}/switchboard-UID`` (tmux's
    convention). Both are checked like the home's own: the user's, 0700, never another user's (see :func:`dial`).
    """
    own = run_dir(home_dir)
    if _fits(os.path.join(own, "mcp.sock")):
        return own
    sample = "0" * 16 + ".sock"
    runtime = os.environ.get("XDG_RUNTIME_DIR") or ""
    if os.path.isabs(runtime) and _fits(os.path.join(runtime, "switchboard", sample)):
        return os.path.join(runtime, "switchboard")
    temporary = os.environ.get("TMPDIR") or ""
    if not (os.path.isabs(temporary) and _fits(os.path.join(temporary, f"switchboard-{os.geteuid()}", sample))):
        temporary = "/tmp"
    return os.path.join(temporary, f"switchboard-{os.geteuid()}")


def socket_path(home_dir: str) -> str:
    """The service's socket: ``mcp.sock`` in :func:`run_dir`, or a digest of the home in :func:`socket_dir`."""
    folder = socket_dir(home_dir)
    if folder == run_dir(home_dir):
        return os.path.join(folder, "mcp.sock")
    digest = hashlib.sha256(os.path.abspath(home_dir).encode()).hexdigest()[:16]
    return os.path.join(folder, f"{digest}.sock")


def package_root() -> str:
    """The folder holding the ``server`` and ``dashboard`` packages (this file is in hooks/ or server/_hooks/)."""
    here = os.path.dirname(os.path.abspath(__file__))
    parent = os.path.dirname(here)
    return os.path.dirname(parent) if os.path.basename(here) == "_hooks" else parent


def build_stamp(root: str | None = None) -> str:
    """A digest of the installed code (names, sizes, mtimes): an upgrade or an edit changes it (~2 ms)."""
    root = root or package_root()
    digest = hashlib.sha256()
    for package in ("server", "dashboard"):
        for folder, dirs, files in os.walk(os.path.join(root, package)):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "node_modules", "static"))
            for name in sorted(files):
                if name.endswith((".py", ".html")):
                    st = os.stat(os.path.join(folder, name))
                    digest.update(f"{folder}/{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


class Unreachable(Exception):
    """The service did not answer in time; the message says why, for the one stderr line."""


def _read_line(sock: socket.socket, deadline: float, buffer: bytearray) -> dict[str, Any]:
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Unreachable("the service accepted but did not answer")
        sock.settimeout(left)
        try:
            chunk = sock.recv(_CHUNK)
        except TimeoutError:
            continue
        if not chunk:
            raise Unreachable("the service closed the connection during the handshake")
        buffer += chunk
        if len(buffer) > MAX_LINE:
            raise Unreachable("the service's handshake line is too long")
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    reply = json.loads(line)
    if not isinstance(reply, dict):
        raise Unreachable("the service's handshake is not a JSON object")
    return reply  # pyright: ignore[reportUnknownVariableType]


def _trust_rules() -> Any:
    """``server/trust.py``, loaded by path: the package's own rules for which config file may be read."""
    from importlib.machinery import SourceFileLoader  # already loaded by the interpreter; importlib.util costs ~5 ms

    loader = SourceFileLoader("switchboard_trust", os.path.join(package_root(), "server", "trust.py"))
    module = type(sys)(loader.name)
    module.__file__ = loader.path
    loader.exec_module(module)
    return module


def key_variables_for(environ: Mapping[str, str]) -> list[str]:
    """The key variables the config in force for this working directory names, read by the trust rules: none when
    no config may be read (an untrusted project file, a file others may write) or it is not valid TOML."""
    trust = _trust_rules()
    try:
        resolution = trust.resolve(os.getcwd(), environ)
    except OSError:
        return []  # the service refuses the session and says why
    if resolution.data is None:
        return []
    import tomllib

    try:
        config = tomllib.loads(resolution.data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    return [str(name) for name in trust.key_variables(config)]


def service_environment(home_dir: str) -> dict[str, str]:
    """What a service started detached inherits (:data:`SERVICE_ENV`): never a key, never a session's identity."""
    env = {name: os.environ[name] for name in SERVICE_ENV if os.environ.get(name)}
    env["SWITCHBOARD_HOME"] = home_dir
    return env


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


def handshake(sock: socket.socket, deadline: float, stamp: str) -> tuple[str, bytes]:
    """Introduce this session; returns ("ok" | "restart", bytes already read past the handshake)."""
    buffer = bytearray()
    identity = {name: os.environ[name] for name in IDENTITY_ENV if os.environ.get(name)}
    _send(sock, {"protocol": PROTOCOL, "stamp": stamp, "cwd": os.getcwd(), "env": identity})
    reply = _read_line(sock, deadline, buffer)
    if reply.get("restart"):
        return "restart", b""
    if reply.get("send_keys"):
        names = key_variables_for(os.environ)  # this side's reading of the config: the service names nothing
        _send(sock, {"env": {name: os.environ[name] for name in names if os.environ.get(name)}})
        reply = _read_line(sock, deadline, buffer)
    if not reply.get("ok"):
        raise Unreachable(f"the service refused the session: {reply.get('error', 'no reason given')}")
    sock.settimeout(None)
    return "ok", bytes(buffer)


class Refused(Unreachable):
    """The socket or its folder is another user's: never dialled, and not worth waiting for."""


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a connected Unix socket; None where the platform cannot tell.

    Linux only (``SO_PEERCRED``). Elsewhere the checks of the folder and the socket file in :func:`dial` stand
    alone: only the user (or root) can create a socket in a folder the user owns with mode 0700.
    """
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    credentials = sock.getsockopt(socket.SOL_SOCKET, option, 12)  # struct ucred: pid, uid, gid (3 x int32)
    return int.from_bytes(credentials[4:8], sys.byteorder)


def _private_folder(folder: str) -> bool:
    """True when ``folder`` is the user's with mode 0700; False when it is missing or open to others (the service
    makes it, or takes it back, when it starts); :class:`Refused` when it is another user's or not a folder."""
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        raise Refused(f"the socket folder {folder} is not a folder (a link or a file): remove it")
    if info.st_uid != os.geteuid():
        raise Refused(
            f"the socket folder {folder} belongs to uid {info.st_uid}, not to you (uid {os.geteuid()}): remove it"
        )
    return stat.S_IMODE(info.st_mode) & 0o077 == 0


def dial(path: str) -> socket.socket | None:
    """A connection to the user's own service at ``path``; None when there is none to dial yet.

    Not dialled: a folder that is not the user's 0700 one, a socket file that is not the user's (the service
    replaces it when it starts). Hung up at once: a listener of another uid (see :func:`peer_uid`).
    """
    if not _private_folder(os.path.dirname(path)):
        return None
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISSOCK(info.st_mode) or info.st_uid != os.geteuid():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        uid = peer_uid(sock)
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    except BaseException:
        sock.close()
        raise
    if uid is not None and uid != os.geteuid():
        sock.close()
        raise Refused(f"the socket {path} is served by uid {uid}, not by you (uid {os.geteuid()})")
    return sock


def start_service(argv: list[str], home_dir: str) -> None:
    """Start ``switchboard service run`` detached, with only the variables that say where things live."""
    import subprocess

    os.makedirs(run_dir(home_dir), mode=0o700, exist_ok=True)
    env = service_environment(home_dir)
    log = os.open(os.path.join(run_dir(home_dir), "service.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        subprocess.Popen(
            [*argv, "service", "run"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            cwd=home_dir,
            start_new_session=True,
        )
    finally:
        os.close(log)


def connect(argv: list[str], deadline: float) -> tuple[socket.socket, bytes]:
    """A connection to the service that has accepted this session, starting the service when needed."""
    home_dir = home()
    path = socket_path(home_dir)
    stamp = build_stamp()
    started = False
    while True:
        sock = dial(path)
        if sock is None:
            if not started:
                start_service(argv, home_dir)
                started = True
            if time.monotonic() >= deadline:
                raise Unreachable("the service did not start listening")
            time.sleep(0.02)  # bounded by the deadline: polling the socket is the launcher's only way to know
            continue
        try:
            answer, rest = handshake(sock, deadline, stamp)
        except (ConnectionResetError, BrokenPipeError):
            answer, rest = "restart", b""  # queued on a service that retired meanwhile: dial again
        except BaseException:
            sock.close()
            raise
        if answer == "ok":
            return sock, rest
        sock.close()  # an older service retired itself for this newer code: start the new one
        started = False
        if time.monotonic() >= deadline:
            raise Unreachable("the service kept restarting")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def relay(sock: socket.socket, early: bytes) -> int:
    """Copy stdin to the service and the service to stdout until the service ends the session."""
    if early:
        _write_all(1, early)
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    selector.register(sock, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj == 0:
                data = os.read(0, _CHUNK)
                if data:
                    sock.sendall(data)
                else:  # stdin EOF: let the service finish the session, and exit when it closes
                    selector.unregister(0)
                    sock.shutdown(socket.SHUT_WR)
            else:
                data = sock.recv(_CHUNK)
                if not data:
                    return 0
                _write_all(1, data)


def fall_back(argv: list[str], reason: str) -> NoReturn:
    print(f"switchboard launcher: {reason}; serving this session in-process instead", file=sys.stderr, flush=True)
    os.execv(argv[0], [*argv, "serve"])


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: launcher.py SWITCHBOARD_COMMAND...", file=sys.stderr)
        return 2
    # Claude Code ends its servers with SIGINT then SIGTERM: both end this relay at once (the kernel closes the
    # socket, and the service ends the session on that EOF).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        timeout = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_S)
    except ValueError:
        timeout = DEFAULT_TIMEOUT_S
    try:
        sock, early = connect(argv, time.monotonic() + timeout)
    except Refused as exc:
        fall_back(argv, str(exc))
    except Unreachable as exc:
        fall_back(argv, f"{exc} within {timeout:g} s")
    except (OSError, ValueError) as exc:  # unwritable home, full disk, a garbled handshake
        fall_back(argv, f"the service is unavailable ({type(exc).__name__}: {exc})")
    try:
        return relay(sock, early)
    except (BrokenPipeError, ConnectionResetError):
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
