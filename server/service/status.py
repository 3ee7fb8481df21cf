"""The service's own account of itself, asked over its socket (``switchboard service status``, doctor, dashboard)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

__all__ = ["query_status"]


def query_status(home: Path, timeout_s: float = 2.0) -> dict[str, Any]:
    """The service's own account of itself, or ``{"running": False, ...}`` when nothing answers."""
    from server.service.instance import is_running, read_state
    from server.service.wire import PROTOCOL, socket_path

    path = socket_path(home)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(str(path))
            sock.sendall(json.dumps({"protocol": PROTOCOL, "query": "status"}).encode() + b"\n")
            reply = sock.makefile("rb").readline()
        data = json.loads(reply)
        if isinstance(data, dict):
            return data  # pyright: ignore[reportUnknownVariableType]
    except (OSError, ValueError):
        pass
    state = read_state(home) if is_running(home) else None
    return {"running": state is not None, "socket": str(path), **({"pid": state["pid"]} if state else {})}
