"""Which ``Host`` the page answers to, and the ``Origin`` check: no other site can read the page or drive it.

DNS rebinding lets any web page point a name it owns (``evil.example``) at 127.0.0.1 and read what answers
there as its own origin: the browser then sends ``Host: evil.example:8765``. So every route, ``/events`` and
``/api/*`` included, answers only to the names of the address the page is served on. The names of loopback
(``127.0.0.1``, ``localhost``, ``[::1]``) can never be an attacker's, so a loopback page answers to all of them.
Starlette's ``TrustedHostMiddleware`` does the Host check (it parses IPv6 literals properly since 1.x); the
Origin check below is the part it lacks.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["LOOPBACK_NAMES", "OriginCheck", "allowed_hosts", "is_loopback"]

logger = logging.getLogger(__name__)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether ``host`` binds only this machine (127.0.0.0/8, ::1 or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _as_host_header(host: str) -> str:
    # An IPv6 literal appears in a Host header in brackets.
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def allowed_hosts(bind_host: str) -> list[str] | None:
    """The ``Host`` names a page served on ``bind_host`` answers to; None: any (a wildcard bind).

    A wildcard (``0.0.0.0``, ``::``) is reached by names this process cannot know; such a bind needs the token
    (see :mod:`dashboard.security`), and a rebinding page never holds it.
    """
    shown = _as_host_header(bind_host.lower())
    if is_loopback(bind_host):
        return list(dict.fromkeys((*LOOPBACK_NAMES, shown)))
    try:
        if ipaddress.ip_address(bind_host.strip("[]")).is_unspecified:
            return None
    except ValueError:
        pass  # a name such as "myhost.lan": the page answers to that name only
    return [shown]


class OriginCheck:
    """ASGI middleware: a request whose ``Origin`` is sent must come from the page's own origin, else 403.

    Browsers send ``Origin`` on cross-site fetches and on same-origin requests that change state; a page of
    another site (or a sandboxed ``null`` origin) therefore shows itself here even when its Host looks right.
    """

    def __init__(self, app: ASGIApp, hosts: Sequence[str] | None) -> None:
        self.app = app
        self._hosts = None if hosts is None else {h.lower() for h in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or self._same_origin(origin, headers.get("host", "")):
            await self.app(scope, receive, send)
            return
        logger.warning("dashboard: refused a request from origin %r", origin[:200])
        response = PlainTextResponse(
            "403: cross-origin request refused (the Origin is not this dashboard's own)", status_code=403
        )
        await response(scope, receive, send)

    def _same_origin(self, origin: str, host: str) -> bool:
        try:
            parts = urlsplit(origin)
            origin_host = parts.hostname
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not origin_host:
            return False  # "null" (sandboxed frames, file:// pages) and anything odd
        if parts.netloc.lower() != host.lower():
            return False
        return self._hosts is None or _as_host_header(origin_host) in self._hosts
