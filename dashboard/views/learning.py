"""The Routing page: what learned routing knows per task type (from analytics), and the latest delegate answers
with their feedback, each with a good/bad control.

The answers list is a plain select with a limit (analytics has no row listing for it).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from dashboard.views.routing import RECENT_ROWS, RangeFilter
from server.analytics.routing import RoutingLearning, routing_learning
from server.config import RoutingConfig
from server.store.models import Delegation, Feedback

__all__ = ["AnswerRow", "RoutingView", "routing_view"]


class AnswerRow(BaseModel):
    """A delegate call that was answered, and the feedback on it (None: none yet)."""

    request_id: str
    created_at: datetime
    task_type: str | None
    model: str
    attempt: int
    learned_over: str | None
    good: bool | None


class RoutingView(BaseModel):
    range: RangeFilter
    learning: RoutingLearning
    answers: list[AnswerRow]


def _answers(db: Session, selected: RangeFilter) -> list[AnswerRow]:
    window = selected.window()
    statement = select(Delegation).where(col(Delegation.status) == "ok", col(Delegation.consensus_run_id).is_(None))
    statement = window.apply(statement, Delegation.created_at, Delegation.session_id)
    rows = db.exec(statement.order_by(col(Delegation.created_at).desc()).limit(RECENT_ROWS)).all()
    ids = [row.request_id for row in rows]
    verdicts = {f.request_id: f.good for f in db.exec(select(Feedback).where(col(Feedback.request_id).in_(ids))).all()}
    firsts = db.exec(select(Delegation).where(col(Delegation.request_id).in_(ids), col(Delegation.attempt) == 0)).all()
    overrode = {row.request_id: row.learned_over for row in firsts}
    return [
        AnswerRow(
            request_id=row.request_id,
            created_at=row.created_at,
            task_type=row.task_type,
            model=f"{row.provider}:{row.model}",
            attempt=row.attempt,
            learned_over=overrode.get(row.request_id),
            good=verdicts.get(row.request_id),
        )
        for row in rows
    ]


def routing_view(db: Session, selected: RangeFilter, routing: RoutingConfig) -> RoutingView:
    """The Routing page over the last ``selected.days`` days (the learner's totals are all-time)."""
    return RoutingView(
        range=selected, learning=routing_learning(db, selected.window(), routing), answers=_answers(db, selected)
    )
