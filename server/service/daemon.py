"""The switchboard service: one warm process per user and ``SWITCHBOARD_HOME`` behind every Claude Code session.

It takes the lock (:mod:`server.service.instance`), listens on the Unix socket the launcher dials, and serves each
connection as its own MCP session (:mod:`server.service.sessions`). Beside them: the dashboard and the OTLP
receiver on one loopback port (:mod:`server.service.http`) and the spool ingest, once for everybody. Sessions on
the same providers share breakers, latency statistics, the concurrency limit and the cache.

It exits after ``idle_s`` with no session, on SIGINT or SIGTERM, and, when a launcher brings a newer build stamp,
once its last session ends (having given up the socket and the lock at once, so the new build starts beside it).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import signal
import threading
import time
from collections.abc import Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import ByteStream, SocketAttribute, SocketListener, TaskGroup

from server import __version__
from server.config import SwitchboardConfig
from server.engine.runtime import Shared
from server.service.instance import Instance, ServiceState, UnsafeFolder
from server.service.sessions import handle_connection
from server.service.wire import build_stamp, peer_uid
from server.settings import Settings
from server.store.recorder import Recorder

if TYPE_CHECKING:
    import socket

    from mcp.server.mcpserver.tools import Tool
    from sqlalchemy import Engine

__all__ = ["Service"]

logger = logging.getLogger(__name__)

HTTP_RETRY_S = 10.0


def _same_user(stream: ByteStream) -> bool:
    """Whether the peer runs as this service's uid (the socket is 0600 in a 0700 folder; this holds if that slips)."""
    raw = stream.extra(SocketAttribute.raw_socket, None)
    try:
        uid = None if raw is None else peer_uid(raw)
    except OSError:  # gone already
        return False
    if uid is not None and uid != os.geteuid():
        logger.warning("refused a connection from uid %d: this service serves uid %d only", uid, os.geteuid())
        return False
    return True


class Service:
    """The service process's state; :meth:`serve` runs it until it is done."""

    def __init__(self, settings: Settings, *, idle_s: float | None = None, port: int | None = None) -> None:
        self.settings = settings
        self.instance = Instance(settings.home)
        self.stamp = build_stamp()
        self.idle_s = settings.service_idle_s if idle_s is None else idle_s
        self.port_wanted = settings.service_port if port is None else port
        self.port: int | None = None
        self.sessions = 0
        self._connections = 0
        self.started_at = time.time()
        self._last_active = time.monotonic()
        self._pool: dict[str, Shared] = {}
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._warm = anyio.Event()
        self._http_ready = anyio.Event()
        self._wake = anyio.Event()
        self._stop = anyio.Event()
        self._retired = False
        self._accepting: anyio.CancelScope | None = None
        self._http_stop: list[Any] = []
        self._http_scope: anyio.CancelScope | None = None
        self._tools: list[Tool] | None = None
        self.recorder = Recorder(self.open_store, settings.spool_dir / "records")
        """One writer for every session's rows (several sessions' batches share a transaction)."""

    def open_store(self) -> Engine:
        """The store every session writes to, opened (and migrated) once; safe from any thread."""
        with self._engine_lock:
            if self._engine is None:
                from server.store.database import open_store

                self._engine = open_store(self.settings)
            return self._engine

    def shared_for(self, config: SwitchboardConfig) -> Shared:
        """One :class:`Shared` per distinct providers/resilience/cache config (same names may mean other hosts)."""
        key = hashlib.sha256(config.model_dump_json(include={"providers", "resilience", "cache"}).encode()).hexdigest()
        if key not in self._pool:
            self._pool[key] = Shared.from_config(config, recorder=self.recorder)
        return self._pool[key]

    def tools(self) -> list[Tool]:
        if self._tools is None:
            raise RuntimeError("the MCP layer is not loaded yet: await ready() first")
        return self._tools

    async def ready(self) -> None:
        """Returns once the MCP layer is imported (sessions wait here, after their handshake)."""
        await self._warm.wait()

    async def http_ready(self) -> None:
        """Returns once the dashboard and the engines are imported too."""
        await self._http_ready.wait()

    def status(self) -> dict[str, Any]:
        return {
            "running": True,
            "pid": os.getpid(),
            "version": __version__,
            "stamp": self.stamp,
            "socket": str(self.instance.socket),
            "port": self.port,
            "uptime_s": round(time.time() - self.started_at, 3),
            "sessions": self.sessions,
            "retired": self._retired,
        }

    def retire(self) -> None:
        """Stop taking sessions and give up the socket, the lock and the port now; exit after the last session."""
        if self._retired:
            return
        self._retired = True
        self.instance.release()
        if self._accepting is not None:
            self._accepting.cancel()
        if self._http_scope is not None:
            self._http_scope.cancel()
        for stop in self._http_stop:
            stop()
        self._nudge()

    def touch(self) -> None:
        """Count now as activity (a page request): the idle timer starts again."""
        self._last_active = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        self._nudge()

    def _nudge(self) -> None:
        self._wake.set()
        self._wake = anyio.Event()

    @contextmanager
    def active(self) -> Generator[None]:
        """Counts an admitted MCP session (the service is not idle while one runs)."""
        self.sessions += 1
        try:
            yield
        finally:
            self.sessions -= 1
            self._last_active = time.monotonic()
            self._nudge()

    async def _session(self, stream: ByteStream) -> None:
        if not _same_user(stream):
            await stream.aclose()
            return
        # Counted from accept, not from admission: a cold service's first session waits for the MCP layer to load,
        # and the idle timer must not run out under it meanwhile.
        self._connections += 1
        try:
            await handle_connection(self, stream)
        except Exception:
            logger.exception("a session ended on an error")
        finally:
            self._connections -= 1
            self._last_active = time.monotonic()
            self._nudge()

    async def _accept(self, listener: SocketListener, sessions: TaskGroup) -> None:
        with anyio.CancelScope() as self._accepting:
            async with listener:
                while True:
                    stream = await listener.accept()
                    sessions.start_soon(self._session, stream)

    async def _warm_up(self) -> None:
        # The MCP SDK, the dashboard and the engines take 0.5-2 s to import; a worker thread keeps the socket
        # answering meanwhile. One thread, in order: two threads importing the SDK at once deadlock on its cycles.
        from server.engine.runtime import import_heavy_modules

        def load_mcp() -> None:
            from server.tools import build_tools

            importlib.import_module("server.service.transport")
            self._tools = build_tools()

        def load_rest() -> None:
            importlib.import_module("dashboard.app")
            import_heavy_modules()

        try:
            await anyio.to_thread.run_sync(load_mcp)
        finally:
            self._warm.set()
        await anyio.to_thread.run_sync(load_rest)
        self._http_ready.set()
        try:
            engine = await anyio.to_thread.run_sync(self.open_store)
        except Exception:
            logger.exception("could not open the store; sessions will retry when they need it")
            return
        from server.service.http import service_config
        from server.service.summary import keep_summary
        from server.store.background import ingest_periodically

        budgets = service_config(self.settings).budgets
        async with anyio.create_task_group() as group:
            group.start_soon(keep_summary, self.instance.folder, engine, self.open_breakers, budgets)
            await ingest_periodically(self.settings, engine)

    def open_breakers(self) -> list[str]:
        """Providers whose breaker is open in any session's pool (what the status line warns of)."""
        return [name for shared in self._pool.values() for name in shared.breakers.open_ones()]

    async def _watch_signals(self) -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                logger.info("%s: stopping", signal.Signals(signum).name)
                self.stop()

    def _done(self) -> bool:
        if self._stop.is_set():
            return True
        if self._connections:
            return False
        limit = 0.0 if self._retired else self.idle_s
        return time.monotonic() - self._last_active >= limit

    async def _until_done(self) -> None:
        while not self._done():
            left = self.idle_s - (time.monotonic() - self._last_active)
            with anyio.move_on_after(max(0.05, left) if not self._connections else 3600):
                await self._wake.wait()

    async def serve(self) -> int:
        """Run until idle, retired or signalled; 0, or 3 when another service already holds this home."""
        try:
            acquired = self.instance.acquire()
        except UnsafeFolder as exc:
            logger.error("not listening: %s", exc)
            return 4
        if not acquired:
            logger.info("a service already runs for %s", self.settings.home)
            return 3
        try:
            listener = await anyio.create_unix_listener(self.instance.socket, mode=0o600)
            http_socket = self._bind_http()
            self.instance.publish(
                ServiceState(
                    os.getpid(), __version__, self.stamp, str(self.instance.socket), self.port, self.started_at
                )
            )
            async with anyio.create_task_group() as group:
                group.start_soon(self._watch_signals)
                group.start_soon(self._warm_up)
                group.start_soon(self._accept, listener, group)
                group.start_soon(self._serve_http, http_socket)
                await self._until_done()
                group.cancel_scope.cancel()
        finally:
            self.instance.release()
            await anyio.to_thread.run_sync(self.recorder.close)  # write (or spill) what sessions left queued
            if self._engine is not None:
                self._engine.dispose()
        return 0

    def _bind_http(self) -> socket.socket | None:
        from server.service.http import bind

        sock = bind(self.settings, self.port_wanted)
        self.port = sock.getsockname()[1] if sock is not None else None
        return sock

    async def _serve_http(self, sock: socket.socket | None) -> None:
        engine: Engine | None = None
        with anyio.CancelScope() as self._http_scope:  # retire() cancels whatever of this has not started serving
            # A service retired for this one's build may still be letting go of the port (uvicorn's graceful
            # shutdown takes up to 2 s): keep trying a while rather than run without the dashboard and receiver.
            deadline = time.monotonic() + HTTP_RETRY_S
            while sock is None and time.monotonic() < deadline:
                await anyio.sleep(0.25)
                sock = self._bind_http()
            if sock is not None:
                await self.http_ready()  # the dashboard's imports come from the one warm-up thread
                engine = await anyio.to_thread.run_sync(self.open_store)
        if sock is None:
            logger.warning("no dashboard or OTLP receiver: the port stayed taken for %g s", HTTP_RETRY_S)
            return
        if engine is None or self._retired:
            sock.close()
            return
        from server.service.http import serve_http

        await serve_http(self, sock, engine, self._http_stop)  # registers its stop before its first await
