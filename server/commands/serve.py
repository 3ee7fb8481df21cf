"""``switchboard serve``: run the MCP server over stdio (default) or streamable HTTP (``--http``).

Over HTTP it binds 127.0.0.1 unless told otherwise, and every request must carry a bearer token on every address,
loopback included (every local user can reach 127.0.0.1): the one in the environment variable named by
``--token-env``, else one made for this run and printed to stderr. Beyond loopback the token must be the user's own
(set in the environment): a printed one may end up in a log. On every loopback
address (127.0.0.0/8, not only the SDK's literal ``127.0.0.1``/``localhost``/``::1``) the SDK's DNS-rebinding
protection is switched on for that address: a request naming another Host gets 421, another Origin 403.
``files`` reads only under the ``--root`` directories over HTTP (the server's cwd is no one's project).
"""

from __future__ import annotations

import argparse
import hmac
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.config import ConfigError, SwitchboardConfig, load_config
from server.hosts import allowed_hosts, is_loopback
from server.settings import Settings

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings

__all__ = ["HELP", "BearerTokenMiddleware", "add_arguments", "run", "transport_security"]

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
    parser.add_argument(
        "--root",
        action="append",
        type=Path,
        metavar="DIR",
        help="with --http: a project directory `files` may read from (repeatable; none: `files` is refused)",
    )


def transport_security(host: str) -> TransportSecuritySettings:
    """The MCP SDK's Host/Origin checks for a server bound to ``host``; off only for a wildcard bind (token-gated).

    The SDK turns them on by itself only for the literal 127.0.0.1, localhost and ::1, so ``--host 127.0.0.2``
    had neither a token nor a Host check.
    """
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = allowed_hosts(host)
    if hosts is None:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[pattern for name in hosts for pattern in (name, f"{name}:*")],
        allowed_origins=[
            f"{scheme}://{name}{port}" for name in hosts for scheme in ("http", "https") for port in ("", ":*")
        ],
    )


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
    chosen = os.environ.get(args.token_env, "").strip() if args.http else ""
    if args.http and not is_loopback(args.host) and not chosen:
        print(
            f"switchboard serve: binding {args.host} exposes the server beyond this machine; "
            f"set {args.token_env} to a secret bearer token (or bind 127.0.0.1)",
            file=sys.stderr,
        )
        return 2
    from server.tools import SessionOptions, build_server

    options = SessionOptions(ingest=not args.no_ingest, roots=_roots(args), config_error=config_error)
    server = build_server(settings, config, options)
    if not args.http:
        from server.stdio import run_stdio

        run_stdio(server)  # ends the process promptly on stdin EOF, SIGINT or SIGTERM
    import anyio
    import uvicorn

    app: Any = server.streamable_http_app(host=args.host, transport_security=transport_security(args.host))
    token = chosen or secrets.token_urlsafe(32)
    if not chosen:
        print(
            f"switchboard serve: clients must send Authorization: Bearer {token} "
            f"(made for this run; set {args.token_env} to choose one)",
            file=sys.stderr,
            flush=True,
        )
    app = BearerTokenMiddleware(app, token)
    # info, without access logs: says "Uvicorn running on ..." once listening (scripts and tests wait for it).
    uvicorn_config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info", access_log=False)
    uvicorn_server = uvicorn.Server(uvicorn_config)
    anyio.run(uvicorn_server.serve)
    return 0


def _roots(args: argparse.Namespace) -> list[Path] | None:
    """Where ``files`` may read: over stdio the client's project (the cwd; None here); over HTTP only ``--root``."""
    if not args.http:
        return None
    return [Path(root).resolve() for root in args.root or []]
