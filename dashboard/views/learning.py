"""The Routing page: what learned routing knows per task type (from analytics), and the latest delegate answers
with their feedback, each with a good/bad control.

The answers list is a plain select with a limit (analytics has no row listing for it).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from dashboard.views.routing import RECENT_ROWS, RangeFilter
from server.analytics.delegation_items import delegation_items
from server.analytics.routing import RoutingLearning, routing_learning
from server.analytics.window import Window
from server.config import SwitchboardConfig
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
    task: str | None = None
    """The start of the task (the thread's user message), when it was kept."""
    answer: str | None = None
    """The start of the answer."""


START_CHARS = 140
"""How much of a task and of an answer the table shows: enough to recall which call it was."""


def _start(text: str | None) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= START_CHARS else flat[: START_CHARS - 1].rstrip() + "…"


class RoutingView(BaseModel):
    range: RangeFilter
    learning: RoutingLearning
    answers: list[AnswerRow]


def _answers(db: Session, window: Window) -> list[AnswerRow]:
    statement = select(Delegation).where(col(Delegation.status) == "ok", col(Delegation.consensus_run_id).is_(None))
    statement = window.apply(statement, Delegation.created_at, Delegation.session_id)
    rows = db.exec(statement.order_by(col(Delegation.created_at).desc()).limit(RECENT_ROWS)).all()
    ids = [row.request_id for row in rows]
    verdicts = {f.request_id: f.good for f in db.exec(select(Feedback).where(col(Feedback.request_id).in_(ids))).all()}
    firsts = db.exec(select(Delegation).where(col(Delegation.request_id).in_(ids), col(Delegation.attempt) == 0)).all()
    overrode = {row.request_id: row.learned_over for row in firsts}
    texts = delegation_items(db, rows)
    return [
        AnswerRow(
            request_id=row.request_id,
            created_at=row.created_at,
            task_type=row.task_type,
            model=f"{row.provider}:{row.model}",
            attempt=row.attempt,
            learned_over=overrode.get(row.request_id),
            good=verdicts.get(row.request_id),
            task=_start(item.task),
            answer=_start(item.answer),
        )
        for row, item in zip(rows, texts, strict=True)
    ]


def routing_view(db: Session, selected: RangeFilter, config: SwitchboardConfig, user: str | None = None) -> RoutingView:
    """The Routing page over the last ``selected.days`` days (the learner's totals are all-time); the written order
    is ``config``'s; ``user``: only that person's delegations."""
    window = selected.window(user=user)
    return RoutingView(range=selected, learning=routing_learning(db, window, config), answers=_answers(db, window))
