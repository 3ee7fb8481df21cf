"""Security for the page: a strict Content-Security-Policy on every response, and the access token.

Every local user can reach 127.0.0.1, so the page needs a token on every address (``switchboard dashboard`` and the
service use :func:`server.page_token.page_token`), given as ``Authorization: Bearer <token>``, or once as
``?token=<token>`` (Jupyter's convention): that sets an HttpOnly cookie and redirects to the same URL without the
token, so it does not linger in the address bar, history or logs. Only ``/health`` answers without it.
"""

from __future__ import annotations

import hmac

from starlette.datastructures import URL, Headers, MutableHeaders, QueryParams
from starlette.requests import cookie_parser
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.hosts import is_loopback

__all__ = ["COOKIE_NAME", "CSP", "SecurityHeaders", "TokenGate", "is_loopback"]

COOKIE_NAME = "switchboard_token"

# No inline script or style anywhere: everything comes from /static on this origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}

# Open without a token: a liveness probe must not need one, and it reveals nothing.
_PUBLIC_PATHS = frozenset({"/health"})


class SecurityHeaders:
    """ASGI middleware adding the CSP and related headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TokenGate:
    """ASGI middleware that admits a request only with the token (bearer header, cookie, or ``?token=``)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token:
            raise ValueError("TokenGate needs a non-empty token")
        self.app = app
        self._token = token.encode()

    def _matches(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate.encode(), self._token)

    def _presented(self, headers: Headers) -> list[str]:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value:
            return [value.strip()]
        return _cookie_values(headers.get("cookie", ""), COOKIE_NAME)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        url = URL(scope=scope)
        query_token = QueryParams(url.query).get("token")
        if query_token is not None:
            await self._exchange(query_token, url)(scope, receive, send)
            return
        if any(self._matches(candidate) for candidate in self._presented(Headers(scope=scope))):
            await self.app(scope, receive, send)
            return
        await _unauthorized()(scope, receive, send)

    def _exchange(self, query_token: str, url: URL) -> Response:
        if not self._matches(query_token):
            return _unauthorized()
        response = RedirectResponse(str(url.remove_query_params("token")), status_code=303)
        secure = url.scheme == "https"
        response.set_cookie(COOKIE_NAME, query_token, httponly=True, samesite="strict", secure=secure, path="/")
        return response


def _cookie_values(header: str, name: str) -> list[str]:
    """Every value the browser sent for cookie ``name``.

    Starlette's parser reads each pair the way browsers write them: SimpleCookie dropped every cookie after one
    it found malformed (another app's JSON value, a stray quote), the token's included. Pairs are parsed one by
    one because cookies are not kept apart by port: another app on this host may set a cookie of the same name,
    and the browser then sends both; one of them being right is enough.
    """
    return [value for pair in header.split(";") if (value := cookie_parser(pair).get(name)) is not None]


def _unauthorized() -> Response:
    # The message never echoes what was presented.
    return PlainTextResponse(
        "401: this dashboard needs its token (Authorization: Bearer <token>, or open it once with ?token=<token>)",
        status_code=401,
        headers={"www-authenticate": "Bearer"},
    )
