"""The service's one loopback port: the dashboard (as ``switchboard dashboard`` serves it) and the OTLP receiver.

``POST /v1/logs`` takes Claude Code's OTLP/HTTP JSON logs (:mod:`server.service.telemetry`); ``/v1/metrics`` is
accepted and dropped (the logs carry every figure kept). The receiver answers only loopback peers that name this
port as their ``Host``: a web page elsewhere cannot post into the store, nor can a DNS-rebinding name.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from server.config import ConfigError, SwitchboardConfig, load_config
from server.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["MAX_BODY_BYTES", "OtlpReceiver", "bind", "serve_http"]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
"""Claude Code exports a batch every second or so, a few KB each; anything near this is not telemetry."""
_LOOPBACK = frozenset({"127.0.0.1", "::1"})


def service_config(settings: Settings) -> SwitchboardConfig:
    """The config the service itself runs with (the user's file; the dashboard's port comes from it)."""
    try:
        return load_config(settings, cwd=settings.home)
    except ConfigError as exc:
        logger.warning("service: %s; using the defaults", exc)
        return SwitchboardConfig()


def bind(settings: Settings, port: int | None) -> socket.socket | None:
    """A listening socket on 127.0.0.1 (the service never exposes itself further); None when the port is taken."""
    from server.commands.dashboard import listen

    wanted = port if port is not None else service_config(settings).dashboard.port
    try:
        return listen("127.0.0.1", wanted)
    except OSError:
        return None


class OtlpReceiver:
    """Starlette endpoint for ``/v1/logs`` and ``/v1/metrics``."""

    def __init__(self, open_store: Callable[[], Engine], port: int) -> None:
        self._open_store = open_store
        self._hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}

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
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        if request.url.path != "/v1/logs":
            return JSONResponse({})
        return await self._store(body)

    async def _body(self, request: Request) -> Any:
        if "json" not in request.headers.get("content-type", "json"):
            return PlainTextResponse("only OTLP/HTTP JSON is accepted (protocol http/json)\n", status_code=400)
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_BODY_BYTES:
                return PlainTextResponse(f"body larger than {MAX_BODY_BYTES} bytes\n", status_code=400)
        try:
            return json.loads(data)
        except ValueError as exc:
            return PlainTextResponse(f"body is not JSON: {exc}\n", status_code=400)

    async def _store(self, body: Any) -> Response:
        from server.service.telemetry import parse_logs, save_batch

        try:
            batch = parse_logs(body)
        except (ValueError, TypeError, AttributeError) as exc:
            return PlainTextResponse(f"body is not OTLP logs: {exc}\n", status_code=400)
        engine = await anyio.to_thread.run_sync(self._open_store)
        await anyio.to_thread.run_sync(save_batch, engine, batch)
        return JSONResponse({})


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

    settings: Settings = service.settings
    dashboard = build_app(engine, settings, config=service_config(settings), ingest=False)
    app = _touching(service, _route(dashboard, OtlpReceiver(service.open_store, sock.getsockname()[1])))
    server = _Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    stops.append(lambda: setattr(server, "should_exit", True))
    try:
        await server.serve(sockets=[sock])
    finally:
        sock.close()
