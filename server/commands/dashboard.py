"""``switchboard dashboard``: open the page of the running service, starting the service when none runs.

One process serves the page: the service (with the OTLP receiver beside it, on the config's ``[dashboard] port``).
This command starts it detached when needed, prints the URL, opens a browser when run from a terminal, and exits;
the service stays for the Claude Code sessions that follow. ``--host``/``--port`` serve the page from this process
instead, on another address (e.g. for a team, with a token); never on the port the service needs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.settings import Settings

HELP = "open the analytics page of the running service (starting it when none runs)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-open",
        "--no-browser",
        dest="no_open",
        action="store_true",
        help="print the URL only; do not open a browser",
    )
    parser.add_argument("--host", help="serve the page from this process on this address instead (needs a token)")
    parser.add_argument("--port", type=int, help="serve the page from this process on this port instead")
    parser.add_argument("--no-ingest", action="store_true", help="with --host/--port: no background ingest")


def run(args: argparse.Namespace) -> int:
    if args.host is None and args.port is None:
        return _open_service_page(args)
    return _serve_here(args)


def _open_service_page(args: argparse.Namespace) -> int:
    from server.commands.service import ensure_running
    from server.page_token import page_token, page_url
    from server.service.wire import run_dir
    from server.settings import Settings

    settings = Settings()
    status = ensure_running(settings)
    log = run_dir(settings.home) / "service.log"
    if not status.get("running"):
        print(f"switchboard dashboard: the service did not start; see {log}", file=sys.stderr)
        return 1
    port = status.get("port")
    if not isinstance(port, int):
        print(
            f"switchboard dashboard: the service runs (pid {status.get('pid')}) but has no page: its port is taken "
            f"by another program; see {log}",
            file=sys.stderr,
        )
        return 1
    url = page_url(port, page_token(settings.home))
    print(url, flush=True)
    if not args.no_open:
        open_browser(url)
    return 0


def resolve_token(token_env: str) -> str | None:
    """The access token from the environment variable named by config ``[dashboard] token_env``, if set."""
    value = os.environ.get(token_env, "").strip()
    return value or None


def _serve_here(args: argparse.Namespace) -> int:
    # Imported here: `switchboard ingest` and friends must not pay for uvicorn and Starlette.
    import uvicorn

    from dashboard.app import build_app
    from dashboard.security import is_loopback
    from server.config import ConfigError, load_config
    from server.page_token import page_token, page_url
    from server.service.listen import listen
    from server.settings import Settings
    from server.store.database import open_store

    settings = Settings()
    try:
        config = load_config(settings)
    except ConfigError as exc:
        print(f"switchboard dashboard: {exc}", file=sys.stderr)
        return 2
    host: str = args.host or config.dashboard.host
    port: int = args.port if args.port is not None else config.dashboard.port
    service_port = settings.service_port if settings.service_port is not None else config.dashboard.port
    if port == service_port and port != 0 and is_loopback(host):
        print(
            f"switchboard dashboard: port {port} is the service's (it serves this page and the OTLP receiver); "
            "run switchboard dashboard without --port, or give another port",
            file=sys.stderr,
        )
        return 2
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
        if not args.no_open:
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
