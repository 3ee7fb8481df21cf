"""Daily and per-session USD caps: a call whose estimate would cross one is refused before any spend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from server.config import BudgetConfig
from server.store.models import Delegation, utcnow

__all__ = ["Spend", "budget_refusal", "current_spend"]


@dataclass(frozen=True)
class Spend:
    """Priced delegation spend so far: today (UTC) and in this session."""

    today_usd: float
    session_usd: float


def _start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def current_spend(engine: Engine, session_id: str | None, now: datetime | None = None) -> Spend:
    """Sum the recorded cost of delegations since midnight UTC, and within ``session_id``."""
    since = _start_of_day(now or utcnow())
    with Session(engine) as db:
        today = db.exec(select(func.sum(Delegation.cost_usd)).where(Delegation.created_at >= since))
        today_usd = today.one() or 0.0
        session_usd = 0.0
        if session_id is not None:
            in_session = db.exec(select(func.sum(Delegation.cost_usd)).where(col(Delegation.session_id) == session_id))
            session_usd = in_session.one() or 0.0
    return Spend(today_usd=today_usd, session_usd=session_usd)


def budget_refusal(
    budgets: BudgetConfig,
    spend: Spend,
    estimate_usd: float,
    *,
    config_file: str,
    max_cost_usd: float | None = None,
) -> str | None:
    """Why a call estimated at ``estimate_usd`` may not run, or None when it fits every cap."""
    if max_cost_usd is not None and estimate_usd > max_cost_usd:
        return f"estimated ${estimate_usd:.4f} is over this call's max_cost_usd ${max_cost_usd:.4f}"
    if budgets.daily_usd is not None and spend.today_usd + estimate_usd > budgets.daily_usd:
        return (
            f"would cross the daily cap: ${spend.today_usd:.4f} spent today + estimated ${estimate_usd:.4f} > "
            f"${budgets.daily_usd:.2f} (raise [budgets] daily_usd in {config_file}; it resets at 00:00 UTC)"
        )
    if budgets.session_usd is not None and spend.session_usd + estimate_usd > budgets.session_usd:
        return (
            f"would cross the session cap: ${spend.session_usd:.4f} spent in this session + estimated "
            f"${estimate_usd:.4f} > ${budgets.session_usd:.2f} (raise [budgets] session_usd in {config_file})"
        )
    return None
