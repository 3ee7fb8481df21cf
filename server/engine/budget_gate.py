"""Budgets before a delegate call: which candidates fit the caps, and the worst case reserved in the store.

The reservation (:func:`server.routing.budgets.reserve`) is settled by the recorder with the call's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import anyio

from server.engine.records import estimate_cost
from server.engine.runtime import Runtime
from server.providers.base import CompletionRequest
from server.providers.registry import ModelInfo
from server.routing.budgets import Spend, budget_refusal, reserve
from server.routing.rank import Plan, Skip

__all__ = ["BudgetRefused", "Budgeted", "apply_budgets"]


class BudgetRefused(Exception):
    """No candidate fits a cap, or the spend could not be read; the message says which and what to change.

    ``refusals`` says, per candidate, why and under which kind (``budget`` or ``cost_cap``) it is recorded.
    """

    def __init__(self, message: str, refusals: list[Skip]) -> None:
        super().__init__(message)
        self.refusals = refusals


@dataclass
class Budgeted:
    """The plan left by the budgets, the reservation made for it, and what the budgets decided."""

    plan: Plan
    reservation: str | None = None
    note: str | None = None


async def apply_budgets(
    runtime: Runtime, request: CompletionRequest, plan: Plan, *, output_tokens: int, cap: float | None
) -> Budgeted:
    """Drop the candidates whose worst case does not fit a cap, and reserve the worst case of the rest.

    Raises:
        BudgetRefused: no candidate fits, or the budget could not be checked (store busy or down).
    """
    budgets = runtime.config.budgets
    if budgets.daily_usd is None and budgets.session_usd is None and cap is None:
        return Budgeted(plan)
    input_tokens = request.approx_input_tokens()
    estimates = [(info, estimate_cost(info, input_tokens, output_tokens)) for info in plan.candidates]
    decide = partial(_fit, runtime, estimates, cap)
    ttl_s = runtime.config.resilience.timeout_s * max(1, len(estimates)) + 60
    model = plan.candidates[0].id if plan.candidates else "-"
    await runtime.recorder.settled()  # our last calls' real costs, not just their reservations
    try:
        reservation, (kept, refusals, note) = await anyio.to_thread.run_sync(
            lambda: reserve(runtime.store, runtime.session_id, decide, model=model, ttl_s=ttl_s)
        )
    except Exception as exc:  # the store or its lock: without the spend a cap cannot be honoured
        message = f"refused before any spend: the budget could not be checked ({exc})"
        raise BudgetRefused(message, [Skip(info.id, message, "budget") for info in plan.candidates]) from exc
    if not kept and refusals:
        message = "refused before any spend: " + "; ".join(f"{s.model}: {s.reason}" for s in refusals)
        raise BudgetRefused(message, refusals)
    # replace keeps where the route came from and how it was ordered (the providers tool and decision say so).
    return Budgeted(replace(plan, candidates=kept, skipped=plan.skipped + refusals), reservation, note)


def _fit(
    runtime: Runtime, estimates: list[tuple[ModelInfo, float | None]], cap: float | None, spend: Spend
) -> tuple[float | None, tuple[list[ModelInfo], list[Skip], str]]:
    """Which candidates fit the caps given ``spend``; reserve the worst case of those kept (one of them answers)."""
    budgets = runtime.config.budgets
    kept: list[ModelInfo] = []
    refusals: list[Skip] = []
    unpriced: list[str] = []
    worst = 0.0
    for info, estimate in estimates:
        if estimate is None:
            if budgets.unpriced == "refuse":
                refusals.append(Skip(info.id, 'unpriced under a budget ([budgets] unpriced = "refuse")', "budget"))
                continue
            unpriced.append(info.id)
            kept.append(info)
            continue
        reason = budget_refusal(budgets, spend, estimate, config_file=runtime.config_file, max_cost_usd=cap)
        if reason is None:
            kept.append(info)
            worst = max(worst, estimate)
        else:
            # The call's own max_cost_usd is the user's choice, not a budget running out: its own kind.
            kind = "cost_cap" if cap is not None and estimate > cap else "budget"
            refusals.append(Skip(info.id, reason, kind))
    note = f"reserved ${worst:.6f} (worst case) against spend ${spend.today_usd:.6f} today"
    if unpriced:
        note += f'; unpriced, allowed by [budgets] unpriced = "allow" (not bounded by the cap): {", ".join(unpriced)}'
    return (worst if kept else None), (kept, refusals, note)
