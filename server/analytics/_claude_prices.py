"""Counterfactual prices for many answers at once: exactly :func:`server.pricing.cost_usd`, but fast.

Pricing one answer through genai-prices takes ~0.15 ms; a savings report over a month prices thousands. Prices
are linear in each token kind except for tiers, which switch on when an answer's *total input* (uncached +
cache read) passes a threshold. So for each model, unit rates are measured once from small probes, and one
probe at the largest total input of the batch checks that no tier starts at or below it (a tier is a step
up that, once passed, stays passed). If the check holds, every answer of the batch is priced by its rates;
if not, each one goes through ``cost_usd``.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import isclose

from server.pricing import cost_usd

__all__ = ["Answer", "claude_costs", "linear_up_to", "unit_rates"]

Answer = tuple[str, int, int, int]
"""``(model, uncached input tokens, output tokens, cached input tokens)``."""

_PROBE = 1_000


def unit_rates(model: str) -> tuple[float, float, float] | None:
    """``model``'s price per uncached input, output and cache-read token below any tier; None when unpriced."""
    probes = (
        cost_usd(model, input_tokens=_PROBE),
        cost_usd(model, output_tokens=_PROBE),
        cost_usd(model, cache_read_tokens=_PROBE),
    )
    if any(p is None for p in probes):
        return None
    return (probes[0] or 0.0) / _PROBE, (probes[1] or 0.0) / _PROBE, (probes[2] or 0.0) / _PROBE


def linear_up_to(model: str, rates: tuple[float, float, float], total_input: int) -> bool:
    """Whether the rates hold for every answer whose total input is at most ``total_input``."""
    r_in, r_out, r_cached = rates
    cached = min(_PROBE, total_input)
    uncached = total_input - cached
    probe = cost_usd(model, input_tokens=uncached, output_tokens=_PROBE, cache_read_tokens=cached)
    expected = uncached * r_in + _PROBE * r_out + cached * r_cached
    return probe is not None and isclose(probe, expected, rel_tol=1e-9, abs_tol=1e-12)


def claude_costs(answers: Sequence[Answer]) -> list[float | None]:
    """The cost of each answer on its model (None: the model is unpriced), in order."""
    by_model: dict[str, list[int]] = {}
    for index, (model, *_rest) in enumerate(answers):
        by_model.setdefault(model, []).append(index)
    costs: list[float | None] = [None] * len(answers)
    for model, indexes in by_model.items():
        rates = unit_rates(model)
        if rates is None:
            continue  # unpriced model: every answer stays None
        largest = max(answers[i][1] + answers[i][3] for i in indexes)
        if linear_up_to(model, rates, largest):
            r_in, r_out, r_cached = rates
            for i in indexes:
                _, uncached, output, cached = answers[i]
                costs[i] = uncached * r_in + output * r_out + cached * r_cached
        else:
            for i in indexes:
                _, uncached, output, cached = answers[i]
                costs[i] = cost_usd(model, input_tokens=uncached, output_tokens=output, cache_read_tokens=cached)
    return costs
