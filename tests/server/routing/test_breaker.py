from __future__ import annotations

from server.routing.breaker import Breaker, Breakers, BreakerState


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock, log: list[tuple[str, BreakerState]]) -> Breaker:
    return Breaker(
        "acme",
        failures_to_open=3,
        cooldown_s=30,
        clock=clock,
        on_transition=lambda provider, state, _detail: log.append((provider, state)),
    )


def test_breaker_opens_after_n_consecutive_failures() -> None:
    clock, log = Clock(), []
    breaker = make(clock, log)
    for _ in range(2):
        breaker.record_failure("500")
    assert breaker.allow() and breaker.state is BreakerState.CLOSED
    breaker.record_failure("500")
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    assert log == [("acme", BreakerState.OPEN)]


def test_a_success_resets_the_failure_count() -> None:
    clock, log = Clock(), []
    breaker = make(clock, log)
    breaker.record_failure("x")
    breaker.record_failure("x")
    breaker.record_success()
    breaker.record_failure("x")
    assert breaker.state is BreakerState.CLOSED and log == []


def test_open_breaker_lets_exactly_one_probe_through_after_the_cooldown() -> None:
    clock, log = Clock(), []
    breaker = make(clock, log)
    for _ in range(3):
        breaker.record_failure("x")
    clock.now += 29
    assert not breaker.allow()
    clock.now += 2
    assert breaker.allow()
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow(), "a second caller must wait for the probe's outcome"


def test_successful_probe_closes_the_breaker() -> None:
    clock, log = Clock(), []
    breaker = make(clock, log)
    for _ in range(3):
        breaker.record_failure("x")
    clock.now += 31
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    assert [state for _p, state in log] == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_failed_probe_reopens_for_a_full_cooldown() -> None:
    clock, log = Clock(), []
    breaker = make(clock, log)
    for _ in range(3):
        breaker.record_failure("x")
    clock.now += 31
    breaker.allow()
    breaker.record_failure("still down")
    assert breaker.state is BreakerState.OPEN
    clock.now += 29
    assert not breaker.allow()
    assert [state for _p, state in log] == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.OPEN]


def test_a_released_probe_lets_the_next_caller_probe() -> None:
    clock, log = Clock(), []
    breaker = make(clock, log)
    for _ in range(3):
        breaker.record_failure("x")
    clock.now += 31
    assert breaker.allow()
    breaker.release_probe()
    assert breaker.allow()


def test_breakers_are_per_provider() -> None:
    clock = Clock()
    breakers = Breakers(failures_to_open=1, cooldown_s=10, clock=clock)
    breakers["a"].record_failure("x")
    assert breakers.state("a") is BreakerState.OPEN
    assert breakers.state("b") is BreakerState.CLOSED and breakers["b"].allow()
