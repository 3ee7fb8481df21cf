"""The sessions page (filter and search) and one session's detail (timeline tree, delegations with answers)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from server.analytics.session_detail import SessionDetail, session_detail
from server.analytics.sessions import SessionRow, session_rows
from server.limits import MAX_DAYS
from server.store.models import AgentSession, Prompt, utcnow

__all__ = ["SessionDetailView", "SessionFilters", "SessionsView", "session_view", "sessions_list"]

SessionDetailView = SessionDetail

PAGE_SIZE = 50
MAX_PAGE = 1_000_000
"""Far past any store's last page, and far below where ``(page - 1) * PAGE_SIZE`` overflows a 64-bit OFFSET."""


class SessionFilters(BaseModel):
    """The sessions page's filters (all optional)."""

    q: str | None = Field(default=None, description="Session id prefix, project, or text of a prompt.")
    project: str | None = None
    agent: Literal["claude-code", "codex", "gemini"] | None = None
    who: Literal["all", "me"] = Field(default="all", description="me: only this machine's user's sessions.")
    days: float | None = Field(default=None, gt=0, le=MAX_DAYS, description="Started within this many days.")
    page: int = Field(default=1, ge=1, le=MAX_PAGE)


class SessionsView(BaseModel):
    """The sessions page: one page of matching sessions, newest first."""

    filters: SessionFilters
    sessions: list[SessionRow]
    has_more: bool


def sessions_list(db: Session, filters: SessionFilters, now: datetime | None = None) -> SessionsView:
    """One page of the sessions matching ``filters``, newest first, with their counts from analytics."""
    statement = select(AgentSession)
    if filters.days is not None:
        statement = statement.where(col(AgentSession.started_at) >= (now or utcnow()) - timedelta(days=filters.days))
    if filters.project:
        statement = statement.where(AgentSession.project == filters.project)
    if filters.agent:
        statement = statement.where(AgentSession.agent == filters.agent)
    if filters.who == "me":
        from server.team import current_identity

        statement = statement.where(AgentSession.user == current_identity().user)
    if filters.q:
        statement = statement.where(_matches(filters.q.strip()))
    offset = (filters.page - 1) * PAGE_SIZE
    statement = statement.order_by(col(AgentSession.started_at).desc(), col(AgentSession.session_id))
    rows = list(db.exec(statement.offset(offset).limit(PAGE_SIZE + 1)).all())
    return SessionsView(filters=filters, sessions=session_rows(db, rows[:PAGE_SIZE]), has_more=len(rows) > PAGE_SIZE)


def _matches(q: str) -> ColumnElement[bool]:
    # LIKE wildcards typed by the user are matched literally.
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    in_prompts = select(Prompt.session_id).where(col(Prompt.text).ilike(f"%{escaped}%", escape="\\"))
    return or_(
        col(AgentSession.session_id).like(f"{escaped}%", escape="\\"),
        col(AgentSession.project).ilike(f"%{escaped}%", escape="\\"),
        col(AgentSession.session_id).in_(in_prompts),
    )


def session_view(db: Session, session_id: str) -> SessionDetail | None:
    """One session's detail from analytics, or None when there is no such session."""
    return session_detail(db, session_id)
