from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from server.config import BudgetConfig
from server.routing.budgets import Spend, budget_refusal, current_spend
from server.store.models import Delegation, utcnow


def add(engine: Engine, cost: float | None, session_id: str | None, days_ago: float = 0) -> None:
    with Session(engine) as db:
        db.add(
            Delegation(
                session_id=session_id,
                request_id="r",
                provider="p",
                model="m",
                status="ok",
                cost_usd=cost,
                priced=cost is not None,
                created_at=utcnow() - timedelta(days=days_ago),
            )
        )
        db.commit()


def test_spend_sums_today_and_this_session_and_ignores_unpriced_rows(engine: Engine) -> None:
    add(engine, 0.25, "s1")
    add(engine, 0.5, "s2")
    add(engine, None, "s1")
    add(engine, 4.0, "s1", days_ago=2)
    spend = current_spend(engine, "s1")
    assert spend.today_usd == 0.75
    assert spend.session_usd == 4.25


def test_no_session_means_no_session_spend(engine: Engine) -> None:
    add(engine, 0.25, "s1")
    assert current_spend(engine, None).session_usd == 0.0


def test_a_call_crossing_the_daily_cap_is_refused_naming_the_cap_and_the_setting() -> None:
    reason = budget_refusal(BudgetConfig(daily_usd=1.0), Spend(0.9, 0.0), 0.2, config_file="/p/.switchboard.toml")
    assert reason is not None
    assert "daily cap" in reason and "[budgets] daily_usd" in reason and "/p/.switchboard.toml" in reason


def test_a_call_crossing_the_session_cap_is_refused() -> None:
    reason = budget_refusal(BudgetConfig(session_usd=0.5), Spend(0.0, 0.45), 0.1, config_file="f")
    assert reason is not None and "session cap" in reason and "session_usd" in reason


def test_a_call_within_every_cap_passes() -> None:
    assert budget_refusal(BudgetConfig(daily_usd=1.0, session_usd=1.0), Spend(0.5, 0.5), 0.1, config_file="f") is None


def test_max_cost_usd_refuses_a_dearer_call() -> None:
    reason = budget_refusal(BudgetConfig(), Spend(0, 0), 0.2, config_file="f", max_cost_usd=0.1)
    assert reason is not None and "max_cost_usd" in reason
