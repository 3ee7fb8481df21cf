"""What each page shows, assembled from :mod:`server.analytics` (the one definition of every number).

Each function returns one pydantic model: the HTML page renders it, and ``/api/...`` returns it as JSON, so
the API holds everything the page shows. The only queries here select rows (the session search); every
aggregate comes from analytics.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import anyio.to_thread
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Engine, or_
from sqlmodel import Session, col, select

from server.analytics.sessions import ModelTokens, SessionRow, recent_sessions, session_rows, sessions_summary
from server.analytics.subagents import SubagentStats, subagent_stats
from server.analytics.tools import ToolStat, tool_stats
from server.analytics.window import Window
from server.store.models import AgentSession, Prompt, utcnow

__all__ = [
    "OverviewView",
    "SessionFilters",
    "SessionsView",
    "SpendWindow",
    "compute",
    "overview",
    "sessions_list",
]

T = TypeVar("T")

SPEND_WINDOWS = (("Today", None), ("7 days", 7), ("30 days", 30))
RECENT_SESSIONS = 10
TOP_TOOLS = 8
PAGE_SIZE = 50


class SpendWindow(BaseModel):
    """Spend over one window: Claude Code sessions' cost of record."""

    label: str
    since: datetime
    sessions: int
    session_cost_usd: float
    sessions_without_cost: int = Field(description="Sessions with no cost of record yet (not counted as $0).")


class OverviewView(BaseModel):
    """The overview page."""

    generated_at: datetime
    spend: list[SpendWindow]
    by_model: list[ModelTokens] = Field(description="Tokens by model, last 30 days.")
    top_tools: list[ToolStat] = Field(description="Busiest tools, last 7 days.")
    subagents: SubagentStats = Field(description="Subagent runs, last 7 days.")
    recent_sessions: list[SessionRow]


class SessionFilters(BaseModel):
    """The sessions page's filters (all optional)."""

    q: str | None = Field(default=None, description="Session id prefix, project, or text of a prompt.")
    project: str | None = None
    days: float | None = Field(default=None, gt=0, description="Started within this many days.")
    page: int = Field(default=1, ge=1)


class SessionsView(BaseModel):
    """The sessions page: one page of matching sessions, newest first."""

    filters: SessionFilters
    sessions: list[SessionRow]
    has_more: bool


def _start_of_today(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def overview(db: Session, now: datetime | None = None) -> OverviewView:
    """Everything the overview page shows, as of ``now`` (default: now)."""
    now = now or utcnow()
    spend: list[SpendWindow] = []
    for label, days in SPEND_WINDOWS:
        since = _start_of_today(now) if days is None else now - timedelta(days=days)
        summary = sessions_summary(db, Window(since=since))
        spend.append(
            SpendWindow(
                label=label,
                since=since,
                sessions=summary.sessions,
                session_cost_usd=summary.cost_usd,
                sessions_without_cost=summary.sessions_without_cost,
            )
        )
    month = sessions_summary(db, Window(since=now - timedelta(days=30)))
    week = Window(since=now - timedelta(days=7))
    return OverviewView(
        generated_at=now,
        spend=spend,
        by_model=month.by_model,
        top_tools=tool_stats(db, week).tools[:TOP_TOOLS],
        subagents=subagent_stats(db, week),
        recent_sessions=recent_sessions(db, Window(), limit=RECENT_SESSIONS),
    )


def sessions_list(db: Session, filters: SessionFilters, now: datetime | None = None) -> SessionsView:
    """One page of the sessions matching ``filters``, newest first, with their counts from analytics."""
    statement = select(AgentSession)
    if filters.days is not None:
        statement = statement.where(col(AgentSession.started_at) >= (now or utcnow()) - timedelta(days=filters.days))
    if filters.project:
        statement = statement.where(AgentSession.project == filters.project)
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


async def compute(engine: Engine, build: Callable[[Session], T]) -> T:
    """Run ``build`` with a database session in a worker thread (the queries are blocking)."""

    def work() -> T:
        with Session(engine) as db:
            return build(db)

    return await anyio.to_thread.run_sync(work)
