"""Walking down the ranked list: one model after another until one answers, within the client's patience."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from server.engine.attempt import try_model
from server.engine.records import Attempt
from server.engine.runtime import Runtime
from server.providers.base import CompletionRequest, ErrorClass
from server.routing.rank import Plan, Skip

__all__ = ["MIN_ATTEMPT_S", "Progress", "run_fallback"]

Progress = Callable[[float, float, str], Awaitable[None]]
"""Told ``(done, total, message)`` when a call falls back or waits, e.g. to report MCP progress."""

# Below this many seconds before the client's tool timeout, no further model is tried.
MIN_ATTEMPT_S = 0.5


async def run_fallback(
    runtime: Runtime, plan: Plan, request: CompletionRequest, progress: Progress | None
) -> list[Attempt]:
    """Try the plan's candidates in order until one answers; a short ``Retry-After`` is waited out once per model.

    When the client has a tool timeout, each try is cut to the time left before it, and models left untried
    are noted in ``plan.skipped``, so the caller gets an answer (or the list of failures), not a timeout.
    """
    attempts: list[Attempt] = []
    deadline = None if runtime.client_timeout_s is None else anyio.current_time() + runtime.client_timeout_s * 0.9
    for position, info in enumerate(plan.candidates):
        left = _time_left(deadline)
        if left is not None and left <= MIN_ATTEMPT_S:
            reason = "not tried: the client's tool timeout (MCP_TOOL_TIMEOUT) was about to pass"
            plan.skipped.extend(Skip(rest.id, reason) for rest in plan.candidates[position:])
            break
        if progress is not None and attempts:
            last = attempts[-1]
            await progress(position, len(plan.candidates), f"{last.info.id} failed ({last.status}); trying {info.id}")
        attempt = await try_model(runtime, info, request, timeout_s=left)
        attempts.append(attempt)
        wait = attempt.retry_after_s
        if _worth_waiting(runtime, attempt, deadline):
            if progress is not None:
                await progress(position, len(plan.candidates), f"{info.id} rate limited; retrying in {wait:g} s")
            await anyio.sleep(wait or 0)
            attempt = await try_model(runtime, info, request, timeout_s=_time_left(deadline))
            attempts.append(attempt)
        if attempt.ok:
            break
    return attempts


def _time_left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - anyio.current_time()


def _worth_waiting(runtime: Runtime, attempt: Attempt, deadline: float | None) -> bool:
    """A 429 with a ``Retry-After`` short enough to wait out (and to leave time for the retry)."""
    wait = attempt.retry_after_s
    if attempt.status != ErrorClass.RATE_LIMITED or wait is None or wait > runtime.config.resilience.max_retry_after_s:
        return False
    left = _time_left(deadline)
    return left is None or left - wait > MIN_ATTEMPT_S
