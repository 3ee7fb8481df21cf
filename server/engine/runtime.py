"""The resources one server shares between tool calls: config, store, provider clients, breakers, cache, limits."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from sqlalchemy import Engine
from sqlmodel import SQLModel

from server.config import SwitchboardConfig
from server.engine.cache import ResponseCache
from server.providers.registry import Registry
from server.routing.breaker import Breakers, BreakerState
from server.routing.rank import LatencyStats
from server.settings import Settings
from server.store.models import ProviderEvent

__all__ = ["Runtime"]


@dataclass
class Runtime:
    """Everything a ``delegate`` (or ``consensus``) call needs; the MCP server's lifespan yields one.

    ``pending`` holds provider events (breaker transitions, errors) not yet written; the next call's
    write takes them along, so a breaker flip costs no transaction of its own. The store may still be opening
    (migrations run in the background so the server answers ``initialize`` at once): code that needs it awaits
    :meth:`ready_engine`.
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
    pending: list[SQLModel] = field(default_factory=list[SQLModel])
    _engine: Engine | None = field(default=None, repr=False)
    _store_error: BaseException | None = field(default=None, repr=False)
    _ready: anyio.Event = field(default_factory=anyio.Event, repr=False)
    _wanted: anyio.Event = field(default_factory=anyio.Event, repr=False)

    @classmethod
    def create(
        cls,
        settings: Settings,
        config: SwitchboardConfig,
        engine: Engine | None = None,
        *,
        roots: list[Path] | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Runtime:
        """Build the shared resources from the config; no provider SDK is imported here.

        Without ``engine`` the caller opens the store later and hands it over with :meth:`set_engine`.
        """
        env = os.environ if environ is None else environ
        root = roots or [Path.cwd()]
        resilience = config.resilience
        runtime = cls(
            settings=settings,
            config=config,
            registry=Registry(config, environ=env, cwd=root[0]),
            breakers=Breakers(
                failures_to_open=resilience.breaker_failures, cooldown_s=resilience.breaker_cooldown_s, clock=clock
            ),
            latency=LatencyStats(),
            limiter=anyio.CapacityLimiter(resilience.max_concurrency),
            cache=ResponseCache(enabled=config.cache.enabled, ttl_s=config.cache.ttl_s, clock=clock),
            roots=root,
            session_id=env.get("CLAUDE_CODE_SESSION_ID") or None,
        )
        runtime.breakers.on_transition = runtime.record_transition
        if engine is not None:
            runtime.set_engine(engine)
        return runtime

    @property
    def engine(self) -> Engine:
        """The store's engine.

        Raises:
            RuntimeError: the store is still opening (or failed to open).
        """
        if self._engine is None:
            raise RuntimeError(f"the store is not open: {self._store_error or 'still opening, retry in a moment'}")
        return self._engine

    @property
    def has_engine(self) -> bool:
        return self._engine is not None

    def set_engine(self, engine: Engine) -> None:
        self._engine = engine
        self._ready.set()

    def fail_store(self, error: BaseException) -> None:
        self._store_error = error
        self._ready.set()

    async def ready_engine(self) -> Engine:
        """The store's engine once it is open (asking for it opens it now if that was put off).

        Raises:
            RuntimeError: the store could not be opened (the message says why).
        """
        self._wanted.set()
        await self._ready.wait()
        return self.engine

    async def store_wanted(self, within_s: float) -> None:
        """Return when a caller needs the store, or after ``within_s`` seconds, whichever comes first."""
        with anyio.move_on_after(within_s):
            await self._wanted.wait()

    @property
    def config_file(self) -> str:
        """Where the config came from, for messages that say what to change."""
        return str(self.config.source) if self.config.source else "the config file (SWITCHBOARD_CONFIG)"

    def record_transition(self, provider: str, state: BreakerState, detail: str) -> None:
        self.pending.append(
            ProviderEvent(session_id=self.session_id, provider=provider, event=f"breaker_{state.value}", detail=detail)
        )

    def record_error(self, provider: str, error_class: str, detail: str) -> None:
        self.pending.append(
            ProviderEvent(
                session_id=self.session_id, provider=provider, event="error", error_class=error_class, detail=detail
            )
        )

    def take_pending(self) -> list[SQLModel]:
        rows, self.pending = self.pending, []
        return rows

    async def aclose(self) -> None:
        await self.registry.aclose()
