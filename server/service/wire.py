"""What the launcher and the service must agree on, taken from the launcher itself (``hooks/launcher.py``).

The launcher is standard library only and imports nothing of this package, so the dependency runs the other way:
the service loads the launcher file as a module and uses its home, socket path, build stamp and protocol number.
"""

from __future__ import annotations

import importlib.util
import socket
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import cast

__all__ = [
    "PROTOCOL",
    "build_stamp",
    "launcher_file",
    "launcher_module",
    "peer_uid",
    "run_dir",
    "service_environment",
    "socket_path",
]


def launcher_file() -> Path:
    """``hooks/launcher.py`` in a checkout, ``server/_hooks/launcher.py`` in a wheel."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_hooks" / "launcher.py", package.parent / "hooks" / "launcher.py"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"launcher.py is in neither {package / '_hooks'} nor {package.parent / 'hooks'}")


@cache
def launcher_module() -> ModuleType:
    path = launcher_file()
    spec = importlib.util.spec_from_file_location("switchboard_launcher", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


PROTOCOL = cast(int, launcher_module().PROTOCOL)


def run_dir(home: Path) -> Path:
    """The service's private folder under ``home`` (0700)."""
    return Path(cast(str, launcher_module().run_dir(str(home))))


def socket_path(home: Path) -> Path:
    """Where the service listens and launchers dial (a per-user folder outside ``home`` when it is deep)."""
    return Path(cast(str, launcher_module().socket_path(str(home))))


def build_stamp() -> str:
    """The digest of the installed code, as the launcher computes it."""
    return cast(str, launcher_module().build_stamp())


def service_environment(home: Path) -> dict[str, str]:
    """The environment a detached service starts with, as the launcher gives it: where things live, no key."""
    return cast(dict[str, str], launcher_module().service_environment(str(home)))


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the peer of a connected Unix socket (Linux), as the launcher checks it; None where unknown."""
    return cast(int | None, launcher_module().peer_uid(sock))
