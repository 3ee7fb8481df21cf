"""Context pressure: how full sessions' context windows got, and the warnings the opt-in hook recorded."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from server.analytics._sql import select_columns
from server.analytics.window import Window
from server.config import ContextConfig
from server.store.models import AgentSession, RawEvent

__all__ = ["EVENT_NAME", "ContextEvent", "ContextPressure", "SessionFill", "context_pressure", "fill_ratio"]

EVENT_NAME = "ContextPressure"


class ContextEvent(BaseModel):
    """One warning the ``context_pressure`` hook gave (a ``raw_event`` named ``ContextPressure``)."""

    session_id: str | None
    at: datetime
    fill_ratio: float | None
    context_tokens: int | None
    window_tokens: int | None


class SessionFill(BaseModel):
    """A session's latest context-window fill (``session.context_tokens``)."""

    session_id: str
    context_tokens: int
    fill_ratio: float


class ContextPressure(BaseModel):
    """Context-window pressure in the window."""

    threshold: float
    window_tokens: int
    warnings: int = Field(description="ContextPressure events recorded by the hook.")
    sessions_warned: int
    sessions_over_count: int = Field(description="Sessions whose latest fill is at or over the threshold.")
    sessions_over: list[SessionFill] = Field(
        description="Sessions (fullest ``limit``) whose latest fill is at or over the threshold."
    )
    latest: list[ContextEvent]


def fill_ratio(tokens: int, window_tokens: int) -> float:
    """The share of the context window ``tokens`` fill."""
    return tokens / window_tokens if window_tokens > 0 else 0.0


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _event(row: RawEvent) -> ContextEvent:
    payload = row.payload
    ratio = payload.get("fill_ratio")
    return ContextEvent(
        session_id=row.session_id,
        at=row.received_at,
        fill_ratio=float(ratio) if isinstance(ratio, int | float) and not isinstance(ratio, bool) else None,
        context_tokens=_int(payload.get("context_tokens")),
        window_tokens=_int(payload.get("window_tokens")),
    )


def context_pressure(
    db: Session, window: Window, config: ContextConfig | None = None, limit: int = 10
) -> ContextPressure:
    """Hook warnings received in ``window`` (newest ``limit``) and sessions now at or over the threshold."""
    config = config or ContextConfig()
    where = [
        col(RawEvent.event_name) == EVENT_NAME,
        *window.time_clauses(RawEvent.received_at),
        *window.session_clauses(RawEvent.session_id),
    ]
    counts = db.exec(select_columns(func.count(), func.count(func.distinct(RawEvent.session_id))).where(*where)).one()
    events = db.exec(select(RawEvent).where(*where).order_by(col(RawEvent.received_at).desc()).limit(limit)).all()
    over = [
        col(AgentSession.context_tokens) >= math.ceil(config.threshold * config.window_tokens),
        *window.time_clauses(AgentSession.started_at),
        *window.session_clauses(AgentSession.session_id),
    ]
    over_count = db.exec(select_columns(func.count()).where(*over)).one()[0]
    sessions = db.exec(
        select(AgentSession.session_id, AgentSession.context_tokens)
        .where(*over)
        .order_by(col(AgentSession.context_tokens).desc())
        .limit(limit)
    ).all()
    return ContextPressure(
        threshold=config.threshold,
        window_tokens=config.window_tokens,
        warnings=counts[0],
        sessions_warned=counts[1],
        sessions_over_count=over_count,
        sessions_over=[
            SessionFill(
                session_id=sid, context_tokens=tokens or 0, fill_ratio=fill_ratio(tokens or 0, config.window_tokens)
            )
            for sid, tokens in sessions
        ],
        latest=[_event(e) for e in events],
    )
