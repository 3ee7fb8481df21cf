"""Who and where: the ``user`` and ``host`` every row of a shared store records."""

from __future__ import annotations

import getpass
import hashlib
import socket
from dataclasses import dataclass
from functools import cache
from typing import Any

from server.config import TeamConfig

__all__ = ["Identity", "current_identity", "identity", "shares_prompts", "stamp", "stamp_values", "withhold_prompt"]


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


def withhold_prompt(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with its ``prompt`` text replaced by its length and SHA-256 (``[team] share_prompts = false``).

    The hash lets two equal prompts be matched without storing either; the marker tells a reader why.
    """
    text = payload.get("prompt")
    if not isinstance(text, str):
        return payload
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    marker = f"[prompt not shared ([team] share_prompts = false): {len(text)} chars, sha256 {digest}]"
    return {**payload, "prompt": marker}


@cache
def shares_prompts() -> bool:
    """``[team] share_prompts`` of the config in force (true when it cannot be read)."""
    from server.config import ConfigError, load_config

    try:
        return load_config().team.share_prompts
    except ConfigError:
        return True


@cache
def current_identity() -> Identity:
    """This process's identity from the config in force (defaults when it cannot be read: rows still land)."""
    from server.config import ConfigError, load_config

    try:
        return identity(load_config().team)
    except ConfigError:
        return identity()


def stamp(row: object) -> None:
    """Give a row object that has ``user`` / ``host`` columns this process's identity where they are unset."""
    if getattr(row, "user", False) is None or getattr(row, "host", False) is None:
        who = current_identity()
        if getattr(row, "user", False) is None:
            row.user = who.user  # pyright: ignore[reportAttributeAccessIssue]
        if getattr(row, "host", False) is None:
            row.host = who.host  # pyright: ignore[reportAttributeAccessIssue]


def stamp_values(values: dict[str, object]) -> None:
    """The same for a row as a dict of column values (Core inserts)."""
    if ("user" in values and values["user"] is None) or ("host" in values and values["host"] is None):
        who = current_identity()
        if "user" in values and values["user"] is None:
            values["user"] = who.user
        if "host" in values and values["host"] is None:
            values["host"] = who.host
