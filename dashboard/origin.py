"""The ``Origin`` check: a request a browser sends from another site's page is refused, on every route.

The ``Host`` check that goes with it (DNS rebinding) is Starlette's ``TrustedHostMiddleware`` over
:func:`server.hosts.allowed_hosts` (it parses IPv6 literals properly since Starlette 1.x); this is the part it lacks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from server.hosts import allowed_hosts, as_host_header, is_loopback

__all__ = ["OriginCheck", "allowed_hosts", "is_loopback"]

logger = logging.getLogger(__name__)


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
        return self._hosts is None or as_host_header(origin_host) in self._hosts
