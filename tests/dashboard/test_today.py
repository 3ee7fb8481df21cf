"""The overview's "Today" is the user's local day, and says which zone it is counted in."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from dashboard.views.overview import overview
from server.store.models import Delegation

NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)  # 21:00 on Nov 28 in Los Angeles


def a_delegation(at: datetime, cost: float) -> Delegation:
    return Delegation(request_id="r", provider="p", model="m", status="ok", cost_usd=cost, created_at=at)


def test_today_starts_at_local_midnight_and_names_the_zone(engine: Engine) -> None:
    with Session(engine) as db:
        db.add(a_delegation(datetime(2026, 11, 28, 20, 0, tzinfo=UTC), 0.25))  # 12:00 on Nov 28 in Los Angeles
        db.add(a_delegation(datetime(2026, 11, 28, 6, 0, tzinfo=UTC), 1.0))  # 22:00 on Nov 27 there: yesterday
        db.commit()
        view = overview(db, now=NOW, zone=ZoneInfo("America/Los_Angeles"))
        utc_view = overview(db, now=NOW, zone=UTC)
    today = view.spend[0]
    assert (today.label, today.zone) == ("Today", "PST, UTC-08:00")
    assert today.delegation_cost_usd == 0.25
    assert utc_view.spend[0].zone == "UTC" and utc_view.spend[0].delegation_calls == 0
