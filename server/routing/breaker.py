"""A circuit breaker per provider: open after N consecutive failures, one half-open probe after the cooldown."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

__all__ = ["Breaker", "BreakerState", "Breakers", "TransitionHook"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


TransitionHook = Callable[[str, BreakerState, str], None]
"""Called as ``hook(provider, new_state, detail)`` on every state change."""


class Breaker:
    """One provider's breaker.

    Args:
        provider: Whose breaker this is (passed to ``on_transition``).
        failures_to_open: Consecutive failures that open it.
        cooldown_s: How long it stays open before letting one probe through.
        clock: Monotonic seconds (tests pass a fake clock).
        on_transition: Told about each state change.
    """

    def __init__(
        self,
        provider: str,
        *,
        failures_to_open: int,
        cooldown_s: float,
        clock: Callable[[], float] = time.monotonic,
        on_transition: TransitionHook | None = None,
    ) -> None:
        self.provider = provider
        self.failures_to_open = max(1, failures_to_open)
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._on_transition = on_transition
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    def allow(self) -> bool:
        """Whether a request may go to the provider now; after the cooldown the first caller becomes the probe."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN and self.cooldown_remaining_s() <= 0:
            self._move(BreakerState.HALF_OPEN, "cooldown over, letting one probe through")
            self._probe_in_flight = True
            return True
        return False

    def cooldown_remaining_s(self) -> float:
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.cooldown_s - self._clock())

    def record_success(self) -> None:
        self.consecutive_failures = 0
        self._probe_in_flight = False
        if self.state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED, "probe succeeded")

    def record_failure(self, detail: str) -> None:
        self.consecutive_failures += 1
        self._probe_in_flight = False
        if self.state is BreakerState.HALF_OPEN:
            self._open(f"probe failed: {detail}")
        elif self.state is BreakerState.CLOSED and self.consecutive_failures >= self.failures_to_open:
            self._open(f"{self.consecutive_failures} consecutive failures, last: {detail}")

    def release_probe(self) -> None:
        """The probe was never sent (e.g. refused by a budget); let the next caller probe instead."""
        if self.state is BreakerState.HALF_OPEN and self._probe_in_flight:
            self._probe_in_flight = False
            self.state = BreakerState.OPEN
            self._opened_at = self._clock() - self.cooldown_s

    def _open(self, detail: str) -> None:
        self._opened_at = self._clock()
        self._move(BreakerState.OPEN, detail)

    def _move(self, state: BreakerState, detail: str) -> None:
        self.state = state
        if self._on_transition is not None:
            self._on_transition(self.provider, state, detail)


class Breakers:
    """The breakers of all providers, made on first use with the same settings."""

    def __init__(
        self,
        *,
        failures_to_open: int,
        cooldown_s: float,
        clock: Callable[[], float] = time.monotonic,
        on_transition: TransitionHook | None = None,
    ) -> None:
        self._settings = (failures_to_open, cooldown_s)
        self._clock = clock
        self.on_transition = on_transition
        self._breakers: dict[str, Breaker] = {}

    def __getitem__(self, provider: str) -> Breaker:
        breaker = self._breakers.get(provider)
        if breaker is None:
            failures, cooldown = self._settings
            breaker = self._breakers[provider] = Breaker(
                provider, failures_to_open=failures, cooldown_s=cooldown, clock=self._clock, on_transition=self._hook
            )
        return breaker

    def state(self, provider: str) -> BreakerState:
        return self._breakers[provider].state if provider in self._breakers else BreakerState.CLOSED

    def open_ones(self) -> list[str]:
        """The providers whose breaker is open now."""
        return [
            name
            for name, breaker in self._breakers.items()
            if breaker.state is BreakerState.OPEN and breaker.cooldown_remaining_s() > 0
        ]

    def _hook(self, provider: str, state: BreakerState, detail: str) -> None:
        if self.on_transition is not None:
            self.on_transition(provider, state, detail)
