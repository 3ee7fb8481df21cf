"""The dashboard's Starlette application: routes, middleware and the lifespan that runs background work."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from dashboard import api, pages
from dashboard.cache import ViewCache
from dashboard.feedback import new_secret
from dashboard.live import StoreWatcher, events_endpoint
from dashboard.loaders import warm_up
from dashboard.origin import OriginCheck, allowed_hosts
from dashboard.page_table import Page, topic_of, topics_by_mark
from dashboard.security import SecurityHeaders, TokenGate
from server import __version__
from server.config import SwitchboardConfig
from server.settings import Settings
from server.store.background import ingest_periodically

__all__ = ["build_app"]

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"


async def health(request: Request) -> JSONResponse:
    """``GET /health``: the process is up and the store answers."""
    watcher: StoreWatcher = request.app.state.watcher
    try:
        await watcher.poll_once()
    except Exception as exc:
        # A probe may ask every few seconds during an outage: one line each, no traceback.
        logger.warning("dashboard: /health could not reach the store: %s", type(exc).__name__)
        return JSONResponse({"status": "error", "store": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok", "version": __version__, "store": "ok"})


async def no_favicon(request: Request) -> Response:
    # Pages declare an empty icon; this answers browsers that ask anyway (e.g. for a plain-text 401).
    return Response(status_code=204)


def _routes(table: Sequence[Page[Any]]) -> list[BaseRoute]:
    return [
        Route("/favicon.ico", no_favicon),
        *pages.routes(table),
        Mount("/api", routes=api.routes(table)),
        Route("/events", events_endpoint),
        Route("/health", health),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]


def build_app(
    engine: Engine,
    settings: Settings | None = None,
    *,
    config: SwitchboardConfig | None = None,
    host: str = "127.0.0.1",
    token: str | None = None,
    ingest: bool = True,
    ingest_interval_s: float | None = None,
    live_interval_s: float = 1.0,
    cache_max_age_s: float = 30.0,
    serve_stale_s: float = 300.0,
    page_table: Sequence[Page[Any]] = pages.PAGES,
) -> Starlette:
    """The dashboard app over ``engine``'s store.

    Args:
        engine: The store (already migrated).
        settings: Where the spool is, for ingest; default: from the environment.
        config: The config file's contents (the ``[context]`` threshold); default: the defaults.
        host: The address the page is served on: requests naming another ``Host`` (DNS rebinding) get 400, and
            those from another ``Origin`` 403, on every route (see :mod:`dashboard.origin`).
        token: When set, every request but ``/health`` must present it (see :mod:`dashboard.security`).
        ingest: Ingest pending spool events in the background while the app runs.
        ingest_interval_s: How often to ingest; default: ``settings.ingest_interval_s``.
        live_interval_s: How often the store is polled for changes while a page listens on ``/events``.
        cache_max_age_s: How long a computed view may be reused while the store is unchanged (0: never).
        serve_stale_s: An out-of-date view younger than this is served at once while it is rebuilt in the
            background (0: always rebuild before answering). See :mod:`dashboard.cache`.
        page_table: The pages (default: ``dashboard.pages.PAGES``): routes, ``/api``, navigation and live topics
            are built from it.
    """
    settings = settings or Settings()
    config = config or SwitchboardConfig()
    watcher = StoreWatcher(engine, live_interval_s, topics_by_mark(page_table))

    cache = ViewCache(
        engine,
        max_age_s=cache_max_age_s,
        serve_stale_s=serve_stale_s,
        on_refreshed=lambda key: watcher.announce(topic_of(page_table, key)),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncGenerator[None]:
        async with anyio.create_task_group() as tasks:
            cache.attach(tasks)
            tasks.start_soon(watcher.run)
            if ingest:
                tasks.start_soon(ingest_periodically, settings, engine, ingest_interval_s)
            tasks.start_soon(warm_up, cache, config.context)
            yield
            cache.attach(None)
            tasks.cancel_scope.cancel()

    hosts = allowed_hosts(host)
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts, www_redirect=False),
        Middleware(OriginCheck, hosts=hosts),
    ]
    if token:
        middleware.append(Middleware(TokenGate, token=token))
    app = Starlette(routes=_routes(page_table), middleware=middleware, lifespan=lifespan)
    app.state.engine = engine
    app.state.settings = settings
    app.state.config = config
    app.state.watcher = watcher
    app.state.views = cache
    app.state.pages = tuple(page_table)
    app.state.csrf_secret = new_secret()
    return app
