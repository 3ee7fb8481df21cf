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
    write takes them along, so a breaker flip costs no transaction of its own.
    """

    settings: Settings
    config: SwitchboardConfig
    engine: Engine
    registry: Registry
    breakers: Breakers
    latency: LatencyStats
    limiter: anyio.CapacityLimiter
    cache: ResponseCache
    roots: list[Path]
    session_id: str | None
    pending: list[SQLModel] = field(default_factory=list[SQLModel])

    @classmethod
    def create(
        cls,
        settings: Settings,
        config: SwitchboardConfig,
        engine: Engine,
        *,
        roots: list[Path] | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Runtime:
        """Build the shared resources from the config; no provider SDK is imported here."""
        env = os.environ if environ is None else environ
        root = roots or [Path.cwd()]
        resilience = config.resilience
        runtime = cls(
            settings=settings,
            config=config,
            engine=engine,
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
        return runtime

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
