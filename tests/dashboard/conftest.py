"""Fixtures: a seeded store, the app, and the app served by a real uvicorn on a loopback port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette

from dashboard import build_app
from server.settings import Settings
from tests.dashboard.seed import seed_store


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed_store(engine)
    return engine


PAGE_TOKEN = "live-server-page-token"
"""The page asks for a token on loopback too (every local user can reach it): the live server's."""


@dataclass
class LiveServer:
    url: str
    app: Starlette
    engine: Engine
    settings: Settings
    token: str = PAGE_TOKEN

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


def serve(app: Starlette) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Run ``app`` under uvicorn in a thread. The socket is listening before this returns, so the first
    request simply queues until uvicorn accepts it: no waiting for start-up."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{port}", server, thread


def stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=15)
    assert not thread.is_alive(), "uvicorn did not stop within 15 s"


@pytest.fixture
def live_server(seeded: Engine, settings: Settings) -> Iterator[LiveServer]:
    app = build_app(seeded, settings, token=PAGE_TOKEN, ingest_interval_s=0.2, live_interval_s=0.2)
    url, server, thread = serve(app)
    try:
        yield LiveServer(url=url, app=app, engine=seeded, settings=settings)
    finally:
        stop(server, thread)
