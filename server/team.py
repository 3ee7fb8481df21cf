"""Who and where: the ``user`` and ``host`` every row of a shared store records."""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from functools import cache

from server.config import TeamConfig

__all__ = ["Identity", "current_identity", "identity"]


@dataclass(frozen=True)
class Identity:
    """The ``user`` and ``host`` columns of the rows this process writes."""

    user: str
    host: str


@cache
def _os_user() -> str:
    try:
        return getpass.getuser()[:200]
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (a bare container)
        return "unknown"


@cache
def _hostname() -> str:
    return (socket.gethostname() or "unknown")[:200]


def identity(team: TeamConfig | None = None) -> Identity:
    """``[team] user`` / ``host`` when set, else the OS account and the hostname."""
    team = team or TeamConfig()
    return Identity(user=team.user or _os_user(), host=team.host or _hostname())


@cache
def current_identity() -> Identity:
    """This process's identity from the config in force (defaults when it cannot be read: rows still land)."""
    from server.config import ConfigError, load_config

    try:
        return identity(load_config().team)
    except ConfigError:
        return identity()
