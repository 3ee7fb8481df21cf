"""``switchboard dashboard``: serve the analytics page with uvicorn, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.settings import Settings

HELP = "serve the analytics page on 127.0.0.1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to bind (default: config [dashboard] host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to bind (default: config [dashboard] port, 8765)")
    parser.add_argument("--no-ingest", action="store_true", help="do not ingest spooled events in the background")
    parser.add_argument("--no-browser", action="store_true", help="print the page's address without opening it")


def resolve_token(token_env: str) -> str | None:
    """The access token from the environment variable named by config ``[dashboard] token_env``, if set."""
    value = os.environ.get(token_env, "").strip()
    return value or None


def run(args: argparse.Namespace) -> int:
    # Imported here: `switchboard ingest` and friends must not pay for uvicorn and Starlette.
    import uvicorn

    from dashboard.app import build_app
    from dashboard.security import is_loopback
    from server.config import ConfigError, load_config
    from server.page_token import page_token, page_url
    from server.service.listen import listen
    from server.settings import Settings
    from server.store.engine import open_store

    settings = Settings()
    try:
        config = load_config(settings)
    except ConfigError as exc:
        print(f"switchboard dashboard: {exc}", file=sys.stderr)
        return 2
    host: str = args.host or config.dashboard.host
    port: int = args.port if args.port is not None else config.dashboard.port
    chosen = resolve_token(config.dashboard.token_env)
    if chosen is None and not is_loopback(host):
        print(
            f"switchboard dashboard: refusing to bind {host} without a token: set {config.dashboard.token_env} "
            "(or bind 127.0.0.1)",
            file=sys.stderr,
        )
        return 2
    # Bind before announcing: once the address is printed, connections queue even if uvicorn is still starting,
    # and ``--port 0`` prints the port actually chosen.
    try:
        sock = listen(host, port)
    except OSError as exc:
        print(f"switchboard dashboard: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        _point_at_service(settings, port)
        return 1
    # Every local user can reach loopback: the page always needs a token, the user's own or the home's page token.
    try:
        token = chosen or page_token(settings.home)
    except OSError as exc:
        print(f"switchboard dashboard: {exc}", file=sys.stderr)
        sock.close()
        return 1
    engine = open_store(settings)
    app = build_app(engine, settings, config=config, host=host, token=token, ingest=not args.no_ingest)
    bound_port = sock.getsockname()[1]
    if chosen:
        # The user's token is never printed: they have it in their environment.
        shown_host = f"[{host}]" if ":" in host else host
        url = f"http://{shown_host}:{bound_port}/"
        print(
            f"switchboard dashboard: {url} (token required: {config.dashboard.token_env})", file=sys.stderr, flush=True
        )
    else:
        url = page_url(bound_port, token, host)
        print(f"switchboard dashboard: {url}", file=sys.stderr, flush=True)
        if not args.no_browser:
            open_browser(url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        engine.dispose()
    return 0


def open_browser(url: str) -> bool:
    """Open ``url`` in the user's graphical browser, when this is an interactive session that has one.

    Only with a terminal and a display: without them Python's ``webbrowser`` may start a text browser (``lynx``,
    ``www-browser``) on the terminal the page's address was printed to, or a browser of a session nobody watches.
    """
    import webbrowser

    graphical = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if not (graphical and sys.stderr.isatty()):
        return False
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def _point_at_service(settings: Settings, port: int) -> None:
    """Say so when the switchboard service is what holds the port: it serves this same page."""
    from server.commands.service import query_status
    from server.page_token import page_token, page_url

    status = query_status(settings.home, timeout_s=1.0)
    if status.get("running") and status.get("port") == port:
        url = page_url(port, page_token(settings.home))
        print(f"the switchboard service serves the dashboard there: {url}", file=sys.stderr)
