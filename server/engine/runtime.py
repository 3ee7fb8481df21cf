"""The resources one server shares between tool calls: config, store, provider clients, breakers, cache, limits.

This module stays light (no SQLAlchemy, no store tables, no engines): the MCP server builds a :class:`Runtime`
before it answers ``initialize``. What the tools need beyond it is imported by :meth:`Runtime.warm`.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from server.config import SwitchboardConfig
from server.engine.cache import ResponseCache
from server.engine.scope import Scope, project_dir_of
from server.providers.registry import Registry
from server.routing.breaker import Breakers, BreakerState
from server.routing.learn import Learner
from server.routing.rank import LatencyStats
from server.settings import Settings
from server.store.recorder import Recorder

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import SQLModel

__all__ = ["CLIENT_MARGIN", "HEAVY_MODULES", "Runtime", "Shared", "default_roots", "import_heavy_modules"]

CLIENT_MARGIN = 0.9
"""A call the client bounds (``MCP_TOOL_TIMEOUT``) ends within this share of it, leaving room for the reply."""

HEAVY_MODULES = (
    "server.store.models",  # SQLAlchemy and SQLModel come with the tables
    "server.store.database",
    "alembic.command",  # opening the store migrates; importing alembic is most of that on an existing store
    "alembic.config",
    "server.engine.delegate",
    "server.engine.consensus.run",
    "server.engine.solve.run",  # not treequest (~1.1 s with numpy and scipy): a solve call loads it in a thread
    "server.engine.output",
    "server.analytics.report",
    "server.analytics.render",
    "server.pricing",  # genai-prices and its price data
    "server.store.background",
    "server.routing.learn_store",
)
"""What the tools import on first use; :meth:`Runtime.warm` loads them all ahead of the first call."""


def import_heavy_modules() -> None:
    """Import :data:`HEAVY_MODULES` (the import system's own locks make this safe from any thread)."""
    for name in HEAVY_MODULES:
        importlib.import_module(name)


def default_roots(env: Mapping[str, str], cwd: Path | None = None) -> list[Path]:
    """The working directory (Claude Code starts MCP servers in the project), and ``CLAUDE_PROJECT_DIR`` if set."""
    roots = [cwd or Path.cwd()]
    project = env.get("CLAUDE_PROJECT_DIR")
    if project and Path(project).resolve() != roots[0].resolve():
        roots.append(Path(project))
    return roots


def _client_timeout_s(env: Mapping[str, str]) -> float | None:
    """``MCP_TOOL_TIMEOUT`` (ms) in seconds; Claude Code 2.1.328 does not extend it on progress notifications."""
    try:
        value = float(env.get("MCP_TOOL_TIMEOUT", ""))
    except ValueError:
        return None
    return value / 1000 if value > 0 else None


@dataclass(frozen=True)
class Shared:
    """The state one process keeps for every session on the same providers: the service shares one per config."""

    breakers: Breakers
    latency: LatencyStats
    limiter: anyio.CapacityLimiter
    cache: ResponseCache
    recorder: Recorder | None = None
    """The process's one writer, when it has one for all its sessions (the service's); None: each runtime its own."""

    @classmethod
    def from_config(
        cls, config: SwitchboardConfig, clock: Callable[[], float] = time.monotonic, recorder: Recorder | None = None
    ) -> Shared:
        resilience = config.resilience
        return cls(
            breakers=Breakers(
                failures_to_open=resilience.breaker_failures, cooldown_s=resilience.breaker_cooldown_s, clock=clock
            ),
            latency=LatencyStats(),
            limiter=anyio.CapacityLimiter(resilience.max_concurrency),
            cache=ResponseCache(enabled=config.cache.enabled, ttl_s=config.cache.ttl_s, clock=clock),
            recorder=recorder,
        )


@dataclass
class Runtime:
    """Everything a ``delegate`` (or ``consensus``) call needs; the MCP server's lifespan yields one.

    ``pending`` holds provider events (breaker transitions, errors) not yet written; the next call's
    write takes them along, so a breaker flip costs no transaction of its own. The store may not be open yet
    (the server answers ``initialize`` before paying for migrations): async code awaits :meth:`ready_store`;
    the ``store`` attribute opens it on the spot.
    """

    settings: Settings
    config: SwitchboardConfig
    registry: Registry
    breakers: Breakers
    latency: LatencyStats
    limiter: anyio.CapacityLimiter
    cache: ResponseCache
    roots: list[Path]
    session_id: str | None
    learner: Learner
    """Learned routing: the store's per-(task type, model) totals in memory, refreshed as calls are recorded."""
    pending: list[SQLModel] = field(default_factory=lambda: [])
    recorder: Recorder = field(init=False, repr=False)
    """Writes every call's rows behind its response (:mod:`server.store.recorder`)."""
    client_timeout_s: float | None = None
    """The client's tool-call timeout, when it tells us (Claude Code passes ``MCP_TOOL_TIMEOUT`` in ms)."""
    config_error: str | None = None
    """Why the config in force could not be used; tools that need providers return it (``serve`` stays up)."""
    project_dir: str | None = None
    """The session's project folder (:func:`server.engine.scope.project_dir_of`): outputs, threads and feedback
    are kept to it."""
    _store: Engine | None = field(default=None, repr=False)
    _opener: Callable[[], Engine] | None = field(default=None, repr=False)
    _open_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _warmed: bool = field(default=False, repr=False)
    _owns_recorder: bool = field(default=True, init=False, repr=False)

    @classmethod
    def create(
        cls,
        settings: Settings,
        config: SwitchboardConfig,
        store: Engine | None = None,
        *,
        roots: list[Path] | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        shared: Shared | None = None,
        config_error: str | None = None,
    ) -> Runtime:
        """Build the shared resources from the config; no provider SDK is imported here.

        Without ``store`` the caller names how to open the store with :meth:`set_store_opener`; it is opened
        on first need. ``shared`` (the service's, for sessions on the same providers) replaces this runtime's own
        breakers, latency statistics, concurrency limit and cache. A config whose providers cannot be built (an
        unknown preset) leaves the runtime without providers and with ``config_error`` set, like a config that did
        not load (``config_error`` given).
        """
        env = os.environ if environ is None else environ
        root = default_roots(env) if roots is None else roots
        common = shared or Shared.from_config(config, clock)
        cwd = root[0] if root else Path.cwd()
        try:
            registry = Registry(config, environ=env, cwd=cwd)
        except ValueError as exc:
            config_error = config_error or f"config file {config.source or '(in force)'}: {exc}"
            registry = Registry(SwitchboardConfig(), environ=env, cwd=cwd)
        runtime = cls(
            settings=settings,
            config=config,
            registry=registry,
            config_error=config_error,
            breakers=common.breakers,
            latency=common.latency,
            limiter=common.limiter,
            cache=common.cache,
            roots=root,
            session_id=env.get("CLAUDE_CODE_SESSION_ID") or None,
            learner=Learner(config.routing.learn),
            client_timeout_s=_client_timeout_s(env),
            project_dir=project_dir_of(env, root),
        )
        runtime.breakers.on_transition = runtime.record_transition
        runtime._store = store
        if common.recorder is not None:
            runtime.recorder, runtime._owns_recorder = common.recorder, False
        return runtime

    @property
    def scope(self) -> Scope:
        """Who this runtime serves, for what it may read back (:mod:`server.engine.scope`)."""
        return Scope(self.session_id, self.project_dir)

    def call_deadline(self) -> float | None:
        """When a tool call that arrives now must be over (``anyio.current_time()`` clock), if the client bounds it.

        A tool takes this first thing, before it waits for the warm-up, the store or the client's roots: the
        client's clock started when it sent the call. Measured under load (2 cores, load average 6-9): a consensus
        call waited 0.4-1.5 s for the warm-up before its run began, so a deadline taken at the run's start ended
        the run after Claude Code's timeout had fired.
        """
        if self.client_timeout_s is None:
            return None
        return anyio.current_time() + self.client_timeout_s * CLIENT_MARGIN

    def __post_init__(self) -> None:
        self.recorder = Recorder(lambda: self.store, self.settings.spool_dir / "records")
        self._owns_recorder = True

    @property
    def store(self) -> Engine:
        """The store (its SQLAlchemy engine); opened here (blocking briefly) if the background opening has not finished.

        Raises:
            RuntimeError: there is no store to open.
            Exception: whatever opening the store raised (unreachable database...).
        """
        return self._store if self._store is not None else self.open_store_now()

    @property
    def has_store(self) -> bool:
        return self._store is not None

    def set_store_opener(self, opener: Callable[[], Engine]) -> None:
        """How to open the store when it is first needed (e.g. :func:`server.store.database.open_store`)."""
        self._opener = opener

    def open_store_now(self) -> Engine:
        """Open the store unless it is open; safe from any thread, only one opening runs."""
        with self._open_lock:
            if self._store is None:
                if self._opener is None:
                    raise RuntimeError("no store was given to this runtime")
                self._store = self._opener()
            return self._store

    async def ready_store(self) -> Engine:
        """The store (its SQLAlchemy engine), opened in a worker thread if need be, so the event loop is not blocked."""
        if self._store is not None:
            return self._store
        return await anyio.to_thread.run_sync(self.open_store_now)

    async def warm(self) -> None:
        """Import what the tools need (the store, the engines, analytics, the providers' clients) in a worker
        thread, once.

        A tool awaits this before its first deferred import, so that import never blocks the event loop; the
        server's lifespan calls it right after the handshake, so the first tool call seldom waits at all.
        """
        if not self._warmed:
            # Abandoned if cancelled: a shutdown need not wait for imports nobody will use.
            await anyio.to_thread.run_sync(self._import_all, abandon_on_cancel=True)
            self._warmed = True

    def _import_all(self) -> None:
        import_heavy_modules()
        # The configured providers' clients too (their SDK imports, key lookups): under load (2 cores, load
        # average 9) building the openai client took 1.5 s of a 6 s tool timeout when a first call paid for it.
        self._build_quietly([name for name in self.registry.specs if self.registry.built(name) is None])

    async def build_providers(self, names: list[str]) -> None:
        """Build the clients of ``names`` not built yet, in one worker thread (SDK imports, key lookups).

        Consensus does this before its members start, so they set off together; a provider that cannot be built
        is left for its call to report.
        """
        missing = [name for name in dict.fromkeys(names) if self.registry.built(name) is None]
        if missing:
            await anyio.to_thread.run_sync(self._build_quietly, missing)

    def _build_quietly(self, names: list[str]) -> None:
        for name in names:
            try:
                self.registry.get(name)
            except Exception:  # a missing key or SDK: try_model classifies and records it
                continue

    @property
    def config_file(self) -> str:
        """Where the config came from, for messages that say what to change."""
        return str(self.config.source) if self.config.source else "the config file (SWITCHBOARD_CONFIG)"

    def record_transition(self, provider: str, state: BreakerState, detail: str) -> None:
        from server.store.models import ProviderEvent

        self.pending.append(
            ProviderEvent(session_id=self.session_id, provider=provider, event=f"breaker_{state.value}", detail=detail)
        )

    def record_error(self, provider: str, error_class: str, detail: str) -> None:
        from server.store.models import ProviderEvent

        self.pending.append(
            ProviderEvent(
                session_id=self.session_id, provider=provider, event="error", error_class=error_class, detail=detail
            )
        )

    def take_pending(self) -> list[SQLModel]:
        rows, self.pending = self.pending, []
        return rows

    def record(
        self, rows: list[SQLModel], *, thread: tuple[str, str | None] | None = None, settle: list[str] | None = None
    ) -> None:
        """Hand ``rows`` (and the provider events no call has taken yet) to the recorder; returns at once."""
        self.recorder.record(
            [*self.take_pending(), *rows], thread=thread, settle=settle or (), session_id=self.session_id
        )

    async def aclose(self) -> None:
        await self.registry.aclose()
        await self.close_recorder()

    async def close_recorder(self) -> None:
        """Write what the recorder holds (spilling what cannot land); shielded, as those calls cost money."""
        with anyio.CancelScope(shield=True):
            rows = self.take_pending()
            if rows and self.has_store:  # provider events alone are not worth opening a store at exit
                self.recorder.record(rows, session_id=self.session_id)
            if self._owns_recorder:
                await anyio.to_thread.run_sync(self.recorder.close)
            else:  # the service's, shared with other sessions: ours are written, the writer stays
                await self.recorder.settled()
