"""``switchboard serve``: run the MCP server over stdio (default) or streamable HTTP (``--http``).

Over HTTP it binds 127.0.0.1 unless told otherwise; on any other address a bearer token is required (read
from the environment variable named by ``--token-env``), and every request must carry it.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import os
import sys
from typing import Any

from server.config import ConfigError, SwitchboardConfig, load_config
from server.settings import Settings

__all__ = ["HELP", "BearerTokenMiddleware", "add_arguments", "is_loopback", "run"]

HELP = "run the MCP server (stdio, or streamable HTTP with --http)"
DEFAULT_PORT = 8766
TOKEN_ENV = "SWITCHBOARD_MCP_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind with --http (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port for --http (default {DEFAULT_PORT})")
    parser.add_argument(
        "--token-env", default=TOKEN_ENV, help=f"variable holding the bearer token for --http (default {TOKEN_ENV})"
    )
    parser.add_argument("--no-ingest", action="store_true", help="do not ingest the hook spool while serving")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerTokenMiddleware:
    """ASGI middleware: HTTP requests without ``Authorization: Bearer <token>`` get 401."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                await send(
                    {"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]}
                )
                await send({"type": "http.response.body", "body": b"missing or wrong bearer token\n"})
                return
        await self.app(scope, receive, send)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    config_error = None
    try:
        config = load_config(settings)
    except ConfigError as exc:
        # Serve anyway: exiting would cost the client every tool, stats included. Tools that need providers
        # return this error; stats and get_output keep working.
        print(f"switchboard serve: {exc}\n(serving without providers until it is fixed)", file=sys.stderr)
        config, config_error = SwitchboardConfig(), str(exc)
    token = os.environ.get(args.token_env) if args.http else None
    if args.http and not is_loopback(args.host) and not token:
        print(
            f"switchboard serve: binding {args.host} exposes the server beyond this machine; "
            f"set {args.token_env} to a secret bearer token (or bind 127.0.0.1)",
            file=sys.stderr,
        )
        return 2
    from server.mcp_app import build_server

    server = build_server(settings, config, ingest=not args.no_ingest, config_error=config_error)
    if not args.http:
        from server.stdio import run_stdio

        run_stdio(server)  # ends the process promptly on stdin EOF, SIGINT or SIGTERM
    import anyio
    import uvicorn

    app: Any = server.streamable_http_app(host=args.host)
    if token:
        app = BearerTokenMiddleware(app, token)
    # info, without access logs: says "Uvicorn running on ..." once listening (scripts and tests wait for it).
    uvicorn_config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info", access_log=False)
    uvicorn_server = uvicorn.Server(uvicorn_config)
    anyio.run(uvicorn_server.serve)
    return 0
