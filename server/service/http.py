"""The service's one loopback port: the dashboard (as ``switchboard dashboard`` serves it) and the OTLP receiver.

``POST /v1/logs`` takes Claude Code's OTLP/HTTP JSON logs (:mod:`server.service.telemetry`); ``/v1/metrics`` is
accepted and dropped (the logs carry every figure kept). The receiver takes telemetry from Claude Code only:

- loopback peers that name this port as their ``Host`` (no DNS-rebinding name);
- no ``Origin`` and no ``Sec-Fetch-Site`` header: browsers send them, Claude Code does not, so a web page's no-cors
  ``fetch`` (which may post ``text/plain`` or a typeless Blob without a preflight) is refused;
- the media type exactly ``application/json``;
- this install's secret in the :data:`~server.service.otel_settings.OTLP_SECRET_HEADER` header, which
  ``install --otel`` puts in ``OTEL_EXPORTER_OTLP_HEADERS`` (another local user, or a page, does not have it);
- a body of at most :data:`MAX_BODY_BYTES` nesting at most :data:`~server.service.telemetry.MAX_DEPTH` deep.

The dashboard on the same port asks for its own page token (:mod:`server.page_token`); the two never stand in for
each other.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
from collections.abc import Callable, Generator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from server.config import ConfigError, SwitchboardConfig, load_config
from server.service.otel_settings import OTLP_SECRET_HEADER, otlp_secret
from server.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["MAX_BODY_BYTES", "OtlpReceiver", "bind", "serve_http"]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
"""Claude Code exports a batch every second or so, a few KB each; anything near this is not telemetry."""
_LOOPBACK = frozenset({"127.0.0.1", "::1"})
_BROWSER_HEADERS = ("origin", "sec-fetch-site")
_MAX_REASONS = 20


def service_config(settings: Settings) -> SwitchboardConfig:
    """The config the service itself runs with (the user's file; the dashboard's port comes from it)."""
    try:
        return load_config(settings, cwd=settings.home)
    except ConfigError as exc:
        logger.warning("service: %s; using the defaults", exc)
        return SwitchboardConfig()


def bind(settings: Settings, port: int | None) -> socket.socket | None:
    """A listening socket on 127.0.0.1 (the service never exposes itself further); None when the port is taken."""
    from server.service.listen import listen

    wanted = port if port is not None else service_config(settings).dashboard.port
    try:
        return listen("127.0.0.1", wanted)
    except OSError:
        return None


class OtlpReceiver:
    """Starlette endpoint for ``/v1/logs`` and ``/v1/metrics``."""

    def __init__(self, open_store: Callable[[], Engine], port: int, home: Path) -> None:
        self._open_store = open_store
        self._hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
        self._home = home

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._respond(Request(scope, receive))
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        if request.client is None or request.client.host not in _LOOPBACK:
            return PlainTextResponse("only this machine may send telemetry\n", status_code=403)
        if request.headers.get("host") not in self._hosts:
            return PlainTextResponse("Host is not this receiver\n", status_code=403)
        if request.method != "POST":
            return PlainTextResponse("POST OTLP/HTTP JSON here\n", status_code=405)
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        if request.url.path != "/v1/logs":
            return JSONResponse({})
        return await self._store(body)

    def _refusal(self, request: Request) -> Response | None:
        """Why this request is not Claude Code's export (a browser's, no secret, another media type); None if it is."""
        for name in _BROWSER_HEADERS:
            if name in request.headers:
                return PlainTextResponse(
                    f"refused: a request with a {name} header comes from a browser; telemetry comes from Claude Code\n",
                    status_code=403,
                )
        given = request.headers.get(OTLP_SECRET_HEADER, "").encode()
        try:
            expected = otlp_secret(self._home).encode()
        except OSError as exc:
            logger.warning("otlp: %s", exc)
            return PlainTextResponse("the receiver's secret cannot be read; see the service log\n", status_code=503)
        if not given or not hmac.compare_digest(given, expected):
            return PlainTextResponse(
                f"refused: missing or wrong {OTLP_SECRET_HEADER} header (switchboard install --user --otel sets it)\n",
                status_code=401,
            )
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            shown = media_type[:60] or "none"
            return PlainTextResponse(
                f"refused: Content-Type {shown}; only application/json is accepted (protocol http/json)\n",
                status_code=415,
            )
        return None

    async def _body(self, request: Request) -> Any:
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_BODY_BYTES:
                return PlainTextResponse(f"body larger than {MAX_BODY_BYTES} bytes\n", status_code=400)
        from server.service.telemetry import MAX_DEPTH, depth_within

        too_deep = PlainTextResponse(f"body nests deeper than {MAX_DEPTH} levels\n", status_code=400)
        try:
            body = json.loads(data)
        except RecursionError:
            return too_deep
        except ValueError as exc:
            return PlainTextResponse(f"body is not JSON: {exc}\n", status_code=400)
        return body if depth_within(body) else too_deep

    async def _store(self, body: Any) -> Response:
        from server.service.telemetry import parse_logs, save_batch

        try:
            batch = parse_logs(body)
        except (ValueError, TypeError, AttributeError) as exc:
            return PlainTextResponse(f"body is not OTLP logs: {exc}\n", status_code=400)
        engine = await anyio.to_thread.run_sync(self._open_store)
        await anyio.to_thread.run_sync(save_batch, engine, batch)
        if not batch.refused:
            return JSONResponse({})
        # OTLP's partial success: the good records are kept, the exporter is told which were not and why.
        logger.warning("otlp: refused %d record(s): %s", len(batch.refused), batch.refused[0])
        reasons = "; ".join(batch.refused[:_MAX_REASONS])
        return JSONResponse({"partialSuccess": {"rejectedLogRecords": len(batch.refused), "errorMessage": reasons}})


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the service takes SIGINT and SIGTERM for every part."""

    @contextmanager
    def capture_signals(self) -> Generator[None]:
        yield


def _route(dashboard: ASGIApp, receiver: ASGIApp) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in ("/v1/logs", "/v1/metrics"):
            await receiver(scope, receive, send)
        else:
            await dashboard(scope, receive, send)

    return app


def _touching(service: Any, app: ASGIApp) -> ASGIApp:
    """Someone reading the page keeps the service from its idle exit, as a session does."""

    async def touched(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            service.touch()
        await app(scope, receive, send)

    return touched


async def serve_http(service: Any, sock: socket.socket, engine: Engine, stops: list[Callable[[], None]]) -> None:
    """Serve the dashboard and the receiver on ``sock`` until cancelled or a callback in ``stops`` is called.

    ``stops`` gets its callback before the first await: a caller that checked it was not retired just before is
    sure a retirement from then on reaches this server.
    """
    from dashboard.app import build_app
    from server.page_token import page_token

    settings: Settings = service.settings
    try:
        token = page_token(settings.home)
    except OSError as exc:
        # The page would be open to every local user without it: serve neither it nor the receiver.
        logger.warning("no dashboard or OTLP receiver: %s", exc)
        sock.close()
        return
    dashboard = build_app(engine, settings, config=service_config(settings), token=token, ingest=False)
    app = _touching(service, _route(dashboard, OtlpReceiver(service.open_store, sock.getsockname()[1], settings.home)))
    server = _Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    stops.append(lambda: setattr(server, "should_exit", True))
    try:
        await server.serve(sockets=[sock])
    finally:
        sock.close()
