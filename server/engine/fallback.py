"""Walking down the ranked list: one model after another until one answers, within the client's patience."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import anyio

from server.engine.attempt import try_model
from server.engine.progress import Progress
from server.engine.records import Attempt
from server.engine.runtime import Runtime
from server.providers.base import CompletionRequest, ErrorClass
from server.providers.registry import ModelInfo
from server.routing.rank import Plan, Skip

__all__ = ["MIN_ATTEMPT_S", "FallbackLog", "Progress", "run_fallback"]

# Below this many seconds before the client's tool timeout, no further model is tried.
MIN_ATTEMPT_S = 0.5


@dataclass
class FallbackLog:
    """What a fallback run has done so far, readable even if the run is cancelled part-way."""

    attempts: list[Attempt] = field(default_factory=list[Attempt])
    in_flight: ModelInfo | None = None
    in_flight_since: float = 0.0

    def with_cancelled(self) -> list[Attempt]:
        """The attempts, plus the one cut off by a cancellation (status ``cancelled``)."""
        if self.in_flight is None:
            return list(self.attempts)
        latency_ms = (time.perf_counter() - self.in_flight_since) * 1000
        cancelled = Attempt(self.in_flight, "cancelled", latency_ms, error="the caller cancelled the request")
        return [*self.attempts, cancelled]

    async def attempt(
        self, runtime: Runtime, info: ModelInfo, request: CompletionRequest, left: float | None
    ) -> Attempt:
        self.in_flight, self.in_flight_since = info, time.perf_counter()
        attempt = await try_model(runtime, info, request, timeout_s=left)
        self.in_flight = None
        self.attempts.append(attempt)
        return attempt


async def run_fallback(
    runtime: Runtime,
    plan: Plan,
    request: CompletionRequest,
    progress: Progress | None,
    log: FallbackLog,
    deadline: float | None = None,
) -> list[Attempt]:
    """Try the plan's candidates in order until one answers; a short ``Retry-After`` is waited out once per model.

    When the client has a tool timeout, each try is cut to the time left before it, and models left untried
    are noted in ``plan.skipped``, so the caller gets an answer (or the list of failures), not a timeout.
    Every try is also appended to ``log``, for the caller to record even if this run is cancelled.
    ``deadline`` is :meth:`Runtime.call_deadline` taken when the tool call arrived (default: taken now).
    """
    deadline = runtime.call_deadline() if deadline is None else deadline
    for position, info in enumerate(plan.candidates):
        left = _time_left(deadline)
        if left is not None and left <= MIN_ATTEMPT_S:
            reason = "not tried: the client's tool timeout (MCP_TOOL_TIMEOUT) was about to pass"
            plan.skipped.extend(Skip(rest.id, reason, "deadline") for rest in plan.candidates[position:])
            break
        if progress is not None and log.attempts:
            last = log.attempts[-1]
            await progress(position, len(plan.candidates), f"{last.info.id} failed ({last.status}); trying {info.id}")
        attempt = await log.attempt(runtime, info, request, left)
        wait = attempt.retry_after_s
        if _worth_waiting(runtime, attempt, deadline):
            if progress is not None:
                await progress(position, len(plan.candidates), f"{info.id} rate limited; retrying in {wait:g} s")
            await anyio.sleep(wait or 0)
            attempt = await log.attempt(runtime, info, request, _time_left(deadline))
        if attempt.ok:
            break
    return log.attempts


def _time_left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - anyio.current_time()


def _worth_waiting(runtime: Runtime, attempt: Attempt, deadline: float | None) -> bool:
    """A 429 with a ``Retry-After`` short enough to wait out (and to leave time for the retry)."""
    wait = attempt.retry_after_s
    if attempt.status != ErrorClass.RATE_LIMITED or wait is None or wait > runtime.config.resilience.max_retry_after_s:
        return False
    left = _time_left(deadline)
    return left is None or left - wait > MIN_ATTEMPT_S
