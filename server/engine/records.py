"""Pricing an attempt and writing it down: one ``delegation`` row per attempt, fallbacks included."""

from __future__ import annotations

from dataclasses import dataclass

from server.providers.base import Completion
from server.providers.registry import ModelInfo
from server.store.models import Delegation

__all__ = ["Attempt", "attempt_cost", "delegation_row", "estimate_cost"]


@dataclass
class Attempt:
    """One try of one model: its outcome, usage, cost and latency."""

    info: ModelInfo
    status: str
    latency_ms: float
    completion: Completion | None = None
    error: str | None = None
    cost_usd: float | None = None
    priced: bool = True
    cache_hit: bool = False
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def attempt_cost(info: ModelInfo, completion: Completion) -> float | None:
    """The USD cost of ``completion``, from the config's price for the model or genai-prices; None if unpriced or
    if the provider reports no usage (an agent CLI: its token counts are zero because unknown, not because free)."""
    from server.pricing import cost_usd  # genai-prices loads its data on import: not before the first answer

    if not info.reports_usage:
        return None
    cached = min(completion.cached_tokens, completion.input_tokens)
    return cost_usd(
        info.model,
        provider=info.pricing_provider or info.provider,
        input_tokens=completion.input_tokens - cached,
        output_tokens=completion.output_tokens,
        cache_read_tokens=cached,
        override=info.price,
    )


def estimate_cost(info: ModelInfo, input_tokens: int, output_tokens: int) -> float | None:
    """What a call would cost at most, for budget checks and ranking; None if unpriced."""
    from server.pricing import cost_usd

    if not info.reports_usage:
        return None  # its calls will be recorded as unpriced: a budget cannot bound them
    return cost_usd(
        info.model,
        provider=info.pricing_provider or info.provider,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        override=info.price,
    )


def delegation_row(
    attempt: Attempt,
    *,
    index: int,
    request_id: str,
    session_id: str | None,
    task_type: str | None = None,
    role: str | None = None,
    thread_id: str | None = None,
    consensus_run_id: str | None = None,
    output_id: str | None = None,
) -> Delegation:
    """The ``delegation`` row of ``attempt`` (the ``index``-th model tried for ``request_id``); ``role`` says what
    a consensus or solve call was for (None: a delegate attempt)."""
    completion = attempt.completion
    return Delegation(
        session_id=session_id,
        request_id=request_id,
        attempt=index,
        provider=attempt.info.provider,
        model=attempt.info.model,
        task_type=task_type,
        role=role,
        status=attempt.status,
        error=attempt.error,
        input_tokens=completion.input_tokens if completion else 0,
        output_tokens=completion.output_tokens if completion else 0,
        cached_tokens=completion.cached_tokens if completion else 0,
        cost_usd=attempt.cost_usd,
        priced=attempt.priced,
        latency_ms=attempt.latency_ms,
        cache_hit=attempt.cache_hit,
        thread_id=thread_id,
        consensus_run_id=consensus_run_id,
        output_id=output_id,
    )
