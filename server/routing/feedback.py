"""Feedback on a delegated answer: stored in ``feedback`` (one row per request, the last word kept) and counted
as a quality signal for the model that answered, under the request's task type.

Feedback given through MCP carries the session's project folder and moves learned routing in that project only
(:func:`server.routing.learn_store.load_for`): a repository's instructions, or a model talked into it, cannot steer
the user's routing everywhere else. The dashboard's feedback is the user's own and counts in every project.

Used by the MCP ``feedback`` tool and by the dashboard's good/bad control.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.redact import redact_text
from server.routing.learn_store import fold_feedback
from server.store.models import Delegation, Feedback, utcnow

__all__ = ["MAX_NOTE_CHARS", "SHORT_ID_CHARS", "FeedbackError", "FeedbackSaved", "give_feedback", "short_id"]

MAX_NOTE_CHARS = 2_000


class FeedbackError(ValueError):
    """The feedback cannot be taken; the message says why and what to pass instead."""


@dataclass(frozen=True)
class FeedbackSaved:
    """What was stored, and what it replaced."""

    request_id: str
    model: str
    task_type: str
    good: bool
    previous: bool | None
    """The earlier verdict on the same request, when this one replaced it."""

    @property
    def message(self) -> str:
        verdict = "good" if self.good else "bad"
        said = f"recorded: the answer of {self.model} ({self.task_type}) was {verdict}"
        if self.previous is None:
            return said
        before = "good" if self.previous else "bad"
        return f"{said}; this replaces the earlier feedback on this request ({before}): the last one counts"


SHORT_ID_CHARS = 8
"""How much of a request id a delegate result's text line and the page show; any unique prefix is accepted."""
MIN_PREFIX_CHARS = 4


def short_id(request_id: str) -> str:
    return request_id[:SHORT_ID_CHARS]


def _full_id(db: Session, request_id: str) -> str:
    """``request_id`` itself when it is one; else the one request whose id starts with it."""
    exact = select(Delegation.request_id).where(col(Delegation.request_id) == request_id).limit(1)
    if db.exec(exact).first() is not None or len(request_id) < MIN_PREFIX_CHARS:
        return request_id
    prefixed = col(Delegation.request_id).startswith(request_id, autoescape=True)
    found = list(db.exec(select(Delegation.request_id).where(prefixed).distinct().limit(2)).all())
    if len(found) > 1:
        raise FeedbackError(f"request_id {request_id!r} is the start of several requests' ids: give more of it")
    return found[0] if found else request_id


def _answer_of(db: Session, request_id: str) -> Delegation:
    statement = select(Delegation).where(col(Delegation.request_id) == request_id).order_by(col(Delegation.attempt))
    attempts = list(db.exec(statement).all())
    if not attempts or attempts[0].consensus_run_id is not None:
        raise FeedbackError(
            f"unknown request_id {request_id!r}: pass the id a delegate result ends with (or its request_id)"
        )
    answer = next((row for row in attempts if row.status == "ok"), None)
    if answer is None:
        raise FeedbackError(f"request {request_id!r} failed on every model: there is no answer to judge")
    return answer


def give_feedback(
    engine: Engine,
    request_id: str,
    good: bool,
    note: str | None = None,
    *,
    session_id: str | None,
    source: str = "mcp",
    any_session: bool = False,
    project_dir: str | None = None,
) -> FeedbackSaved:
    """Store feedback on ``request_id``'s answer and count it for the model that gave it.

    Args:
        session_id: The caller's Claude Code session; feedback on another session's request is refused unless
            ``any_session`` (the dashboard's user sees every session).
        project_dir: Where the feedback was given: it moves learned routing there only. None (the dashboard):
            everywhere.

    Raises:
        FeedbackError: unknown request, another session's request, or a request no model answered.
    """
    with Session(engine) as db:
        request_id = _full_id(db, request_id)
        answer = _answer_of(db, request_id)
        if not any_session and answer.session_id != session_id:
            raise FeedbackError(
                f"request {request_id!r} was delegated in another session: feedback is taken from the session "
                "that delegated (or the dashboard)"
            )
        model, task_type = f"{answer.provider}:{answer.model}", answer.task_type or "general"
        kept = redact_text(note)[:MAX_NOTE_CHARS] if note else None
        row = db.exec(select(Feedback).where(col(Feedback.request_id) == request_id)).first()
        before = None if row is None else Feedback.model_validate(row.model_dump())
        if row is None:
            row = Feedback(request_id=request_id, task_type=task_type, model=model, good=good)
        row.session_id, row.good, row.note, row.source, row.updated_at = answer.session_id, good, kept, source, utcnow()
        row.project_dir = project_dir
        db.add(row)
        fold_feedback(db, before, row)
        db.commit()
    return FeedbackSaved(request_id, model, task_type, good, None if before is None else before.good)
