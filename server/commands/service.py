"""``switchboard service start|stop|status [--json]|run``: the warm service behind every Claude Code session.

``start`` runs it detached (the launcher does the same on demand), ``run`` in the foreground, ``stop`` ends it
(SIGTERM, then SIGKILL if it has not let go of its lock in time), ``status`` asks it over its socket.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from typing import Any

from server.json_output import dumps
from server.service.status import query_status
from server.settings import Settings

__all__ = ["HELP", "add_arguments", "ensure_running", "query_status", "run"]

HELP = "the warm service behind every session: start, stop, status, run"
WAIT_S = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["start", "stop", "status", "run"])
    parser.add_argument("--json", action="store_true", help="status: print JSON")
    parser.add_argument("--idle", type=float, help="run/start: exit after this many seconds with no session")
    parser.add_argument("--port", type=int, help="run/start: the dashboard and OTLP port (default: config)")


def _print_status(status: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(dumps(status))
    elif status.get("running"):
        print(
            f"switchboard service {status.get('version')}: running, pid {status.get('pid')}, "
            f"socket {status.get('socket')}, port {status.get('port')}, up {status.get('uptime_s')} s, "
            f"{status.get('sessions')} sessions"
        )
    else:
        print("switchboard service: not running")


def ensure_running(settings: Settings, port: int | None = None, idle: float | None = None) -> dict[str, Any]:
    """The running service's status, starting it detached first when none runs; ``{"running": False}`` when it
    did not answer within :data:`WAIT_S`."""
    from server.service.instance import is_running
    from server.service.wire import run_dir, service_environment

    if not is_running(settings.home):
        folder = run_dir(settings.home)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        extra = [*(["--idle", str(idle)] if idle is not None else [])]
        extra += ["--port", str(port)] if port is not None else []
        with open(folder / "service.log", "ab") as log:
            os.chmod(folder / "service.log", 0o600)
            subprocess.Popen(
                [sys.executable, "-P", "-m", "server", "service", "run", *extra],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                env=service_environment(settings.home),  # the launcher's: no key, no session's identity
            )
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        status = query_status(settings.home)
        if status.get("running") and "version" in status:
            return status
        time.sleep(0.05)  # bounded by WAIT_S: the detached process says nothing until its socket answers
    return {"running": False}


def _start(settings: Settings, args: argparse.Namespace) -> int:
    from server.service.wire import run_dir

    status = ensure_running(settings, args.port, args.idle)
    if status.get("running"):
        _print_status(status, args.json)
        return 0
    print(f"switchboard service: did not answer within {WAIT_S:g} s; see {run_dir(settings.home)}/service.log")
    return 1


def _stop(settings: Settings) -> int:
    from server.service.instance import is_running, read_state

    state = read_state(settings.home)
    if state is None or not is_running(settings.home):
        print("switchboard service: not running")
        return 0
    pid = int(state["pid"])
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + WAIT_S / 2
        while is_running(settings.home) and time.monotonic() < deadline:
            time.sleep(0.05)  # bounded: a stopped service lets go of its lock as it exits
        if not is_running(settings.home):
            break
    print(f"switchboard service: stopped (pid {pid})")
    return 0


def _run(settings: Settings, args: argparse.Namespace) -> int:
    import anyio

    from server.service.daemon import Service

    service = Service(settings, idle_s=args.idle, port=args.port)
    code = anyio.run(service.serve)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # worker threads left importing or ingesting must not hold up the exit


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.action == "run":
        return _run(settings, args)
    if args.action == "start":
        return _start(settings, args)
    if args.action == "stop":
        return _stop(settings)
    _print_status(query_status(settings.home), args.json)
    return 0
