"""The Team page: everyone who writes to this store, per person and per person and project."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Session

from dashboard.views.routing import RangeFilter
from server.analytics.team import TeamReport, count_users, team_report

__all__ = ["TeamView", "team_view"]


class TeamView(BaseModel):
    """What the Team page shows."""

    days: float
    users: int
    report: TeamReport


def team_view(db: Session, selected: RangeFilter, user: str | None = None) -> TeamView:
    """Everyone's sessions over the last ``selected.days`` days (``user``: only that person's); ``users`` counts the
    whole store's people."""
    return TeamView(days=selected.days, users=count_users(db), report=team_report(db, selected.window(user=user)))
