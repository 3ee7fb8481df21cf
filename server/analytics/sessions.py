"""Sessions: how many, how long, their cost of record, and tokens by model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, case, func
from sqlmodel import Session, col, select

from server.analytics._sql import count_if, microseconds_between, select_columns
from server.analytics.notifications import typed_prompts
from server.analytics.window import Window
from server.store.models import AgentSession, Delegation, ModelUsage, Prompt, SubagentRun, ToolCall

__all__ = [
    "AgentTotals",
    "ModelTokens",
    "SessionRow",
    "SessionsSummary",
    "model_tokens",
    "recent_sessions",
    "session_rows",
    "sessions_by_agent",
    "sessions_summary",
    "tokens_by_model",
]


class ModelTokens(BaseModel):
    """Tokens one model used (from ``model_usage``, deduplicated by ingest), main agent and subagents."""

    model: str
    responses: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    cost_usd: float | None = Field(description="Price-table cost of the priced responses; None when none is priced.")
    unpriced_responses: int = Field(description="Responses of a model with no known price: not counted as $0.")


class AgentTotals(BaseModel):
    """One agent's sessions started in the window."""

    agent: str = Field(description="claude-code, codex or gemini.")
    sessions: int
    cost_usd: float = Field(description="Sum of their costs (Claude Code's own, or estimated for other agents).")
    sessions_without_cost: int = Field(description="Sessions with no cost yet: not counted as $0.")
    models: list[str] = Field(description="Models their usage names, most output first.")


class SessionsSummary(BaseModel):
    """Sessions started in the window."""

    sessions: int
    ended: int
    duration_s_total: float = Field(description="Sum of (end, else last event) minus start.")
    cost_usd: float = Field(description="Sum of the sessions' cost of record (Claude Code's totalCostUSD).")
    sessions_without_cost: int = Field(description="Sessions with no cost of record yet: not counted as $0.")
    sessions_reported: int = Field(default=0, description="Cost of record reported by Claude Code (its totalCostUSD).")
    sessions_estimated: int = Field(
        default=0, description="Cost of record estimated: the transcript's usage at list prices (no figure reported)."
    )
    by_model: list[ModelTokens]
    by_agent: list[AgentTotals] = Field(default_factory=list[AgentTotals])


class SessionRow(BaseModel):
    """One session in a list."""

    session_id: str
    agent: str = "claude-code"
    project: str | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    cost_usd: float | None = Field(description="Cost of record; None: not known (never shown as $0).")
    cost_source: str | None
    models: list[str]
    prompts: int = 0
    tool_calls: int = 0
    subagents: int = 0
    delegations: int = 0


def _in_window(window: Window) -> list[ColumnElement[bool]]:
    return [*window.time_clauses(AgentSession.started_at), *window.session_clauses(AgentSession.session_id)]


def _session_ids(window: Window) -> Any:
    return select(AgentSession.session_id).where(*_in_window(window))


def _duration_s(row: AgentSession) -> float | None:
    end = row.ended_at or row.last_event_at
    if row.started_at is None or end is None:
        return None
    return max((end - row.started_at).total_seconds(), 0.0)


def model_tokens(db: Session, where: list[ColumnElement[bool]]) -> list[ModelTokens]:
    """Token and cost totals per model over the ``model_usage`` rows matching ``where``, most output first.

    Summed per session and model first, then per model: the inner grouping walks the (session_id, model, ...)
    covering index in order, so only one row per session and model is sorted, not every response.
    """
    per_session = (
        select_columns(
            col(ModelUsage.model).label("model"),
            func.count().label("responses"),
            func.sum(ModelUsage.input_tokens).label("input"),
            func.sum(ModelUsage.output_tokens).label("output"),
            func.sum(ModelUsage.cache_read_tokens).label("cache_read"),
            func.sum(ModelUsage.cache_creation_tokens).label("cache_creation"),
            func.sum(ModelUsage.cost_usd).label("cost"),
            count_if(col(ModelUsage.cost_usd).is_(None)).label("unpriced"),
        )
        .where(*where)
        .group_by(ModelUsage.session_id, ModelUsage.model)
        .subquery()
    )
    c = per_session.c
    statement = select_columns(
        c.model,
        func.sum(c.responses),
        func.coalesce(func.sum(c.input), 0),
        func.coalesce(func.sum(c.output), 0),
        func.coalesce(func.sum(c.cache_read), 0),
        func.coalesce(func.sum(c.cache_creation), 0),
        func.sum(c.cost),
        func.coalesce(func.sum(c.unpriced), 0),
    ).group_by(c.model)
    rows = [
        ModelTokens(
            model=r[0],
            responses=int(r[1]),
            input_tokens=int(r[2]),
            output_tokens=int(r[3]),
            cache_read_tokens=int(r[4]),
            cache_creation_tokens=int(r[5]),
            cost_usd=None if r[6] is None else float(r[6]),
            unpriced_responses=int(r[7]),
        )
        for r in db.connection().execute(statement).all()
    ]
    return sorted(rows, key=lambda m: (-m.output_tokens, m.model))


def tokens_by_model(db: Session, window: Window) -> list[ModelTokens]:
    """Tokens and cost by model of the sessions started in ``window`` (``SessionsSummary.by_model``)."""
    return model_tokens(db, [col(ModelUsage.session_id).in_(_session_ids(window))])


def sessions_summary(db: Session, window: Window, *, by_model: bool = True) -> SessionsSummary:
    """Count, duration, cost of record and tokens by model of the sessions started in ``window``.

    ``by_model=False`` leaves ``by_model`` empty: the dearest part, for callers that show it for one window only.
    """
    end = func.coalesce(AgentSession.ended_at, AgentSession.last_event_at)
    # A session's duration counts when it has a start and an end (or a last event), and never below zero.
    micros = microseconds_between(AgentSession.started_at, end)
    known = col(AgentSession.started_at).is_not(None) & end.is_not(None)
    duration = case((known & (micros > 0), micros), else_=0)
    statement = select_columns(
        func.count(),
        func.count(col(AgentSession.ended_at)),
        func.coalesce(func.sum(duration), 0),
        func.sum(AgentSession.cost_usd),
        count_if(col(AgentSession.cost_usd).is_(None)),
        count_if(col(AgentSession.cost_usd).is_not(None) & (col(AgentSession.cost_source) == "claude_code")),
        count_if(col(AgentSession.cost_usd).is_not(None) & (col(AgentSession.cost_source) == "computed")),
    ).where(*_in_window(window))
    row = db.connection().execute(statement).one()
    sessions, ended, duration_us, cost, without_cost, reported, estimated = row
    return SessionsSummary(
        sessions=sessions,
        ended=ended,
        duration_s_total=int(duration_us) / 1_000_000,
        cost_usd=float(cost or 0),
        sessions_without_cost=int(without_cost),
        sessions_reported=int(reported),
        sessions_estimated=int(estimated),
        by_model=tokens_by_model(db, window) if by_model else [],
        by_agent=sessions_by_agent(db, window),
    )


def sessions_by_agent(db: Session, window: Window) -> list[AgentTotals]:
    """Sessions, spend and models per agent, over the sessions started in ``window``; most sessions first."""
    statement = (
        select_columns(
            AgentSession.agent,
            func.count(),
            func.sum(AgentSession.cost_usd),
            count_if(col(AgentSession.cost_usd).is_(None)),
        )
        .where(*_in_window(window))
        .group_by(AgentSession.agent)
    )
    rows = db.connection().execute(statement).all()
    result: list[AgentTotals] = []
    for agent, sessions, cost, without_cost in rows:
        models = tokens_by_model(db, window.model_copy(update={"agent": agent}))
        totals = AgentTotals(
            agent=agent,
            sessions=int(sessions),
            cost_usd=float(cost or 0),
            sessions_without_cost=int(without_cost),
            models=[m.model for m in models],
        )
        result.append(totals)
    return sorted(result, key=lambda a: (-a.sessions, a.agent))


def _counts(db: Session, column: Any, ids: list[str], *where: ColumnElement[bool]) -> dict[str, int]:
    statement = select_columns(column, func.count()).where(col(column).in_(ids), *where).group_by(column)
    return {r[0]: r[1] for r in db.exec(statement).all()}


def session_rows(db: Session, sessions: list[AgentSession]) -> list[SessionRow]:
    """``sessions`` as list rows, with their prompt, tool call, subagent and delegation counts."""
    ids = [s.session_id for s in sessions]
    prompts = _counts(db, Prompt.session_id, ids, typed_prompts())
    tools = _counts(db, ToolCall.session_id, ids)
    subagents = _counts(db, SubagentRun.session_id, ids)
    delegations = _counts(db, Delegation.session_id, ids)
    return [
        SessionRow(
            session_id=s.session_id,
            agent=s.agent,
            project=s.project,
            started_at=s.started_at,
            ended_at=s.ended_at,
            duration_s=_duration_s(s),
            cost_usd=s.cost_usd,
            cost_source=s.cost_source,
            models=list(s.models),
            prompts=prompts.get(s.session_id, 0),
            tool_calls=tools.get(s.session_id, 0),
            subagents=subagents.get(s.session_id, 0),
            delegations=delegations.get(s.session_id, 0),
        )
        for s in sessions
    ]


def recent_sessions(db: Session, window: Window, limit: int = 20, offset: int = 0) -> list[SessionRow]:
    """The sessions started in ``window``, newest first, with their ids and costs of record."""
    statement = (
        select(AgentSession)
        .where(*_in_window(window))
        .order_by(col(AgentSession.started_at).desc(), col(AgentSession.session_id))
        .offset(offset)
        .limit(limit)
    )
    return session_rows(db, list(db.exec(statement).all()))
