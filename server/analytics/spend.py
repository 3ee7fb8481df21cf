"""Spend over several windows that end now, in one pass per table: what the overview's spend cards show.

Each figure is the one :func:`~server.analytics.sessions.sessions_summary` and
:func:`~server.analytics.delegations.delegation_stats` give for ``Window(since=...)``; here every window is a
conditional sum over one range scan from the earliest start, instead of a full summary per window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import case, func
from sqlmodel import Session, col

from server.analytics._sql import count_if, select_columns
from server.analytics.window import Window
from server.store.models import AgentSession, Delegation

__all__ = ["Spend", "spend_since"]


class Spend(BaseModel):
    """Sessions' cost of record and delegations' cost since one moment."""

    since: datetime
    sessions: int = Field(description="Sessions started since then (``SessionsSummary.sessions``).")
    session_cost_usd: float = Field(description="Their cost of record (``SessionsSummary.cost_usd``).")
    sessions_without_cost: int = Field(description="Sessions with no cost of record yet (not counted as $0).")
    delegation_calls: int = Field(description="Delegation attempts made since then (``DelegationStats.calls``).")
    delegation_cost_usd: float | None = Field(description="Priced attempts' cost; None when none is priced.")
    unpriced_delegation_calls: int


def _sum_if(condition: Any, value: Any) -> Any:
    # NULL when no row matches or every matching value is NULL, like SUM over the window alone.
    return func.sum(case((condition, value)))


def spend_since(db: Session, sinces: Sequence[datetime], *, user: str | None = None) -> list[Spend]:
    """Spend since each moment in ``sinces`` (each window ends now), in the same order.

    Args:
        db: An open session.
        sinces: Window starts, e.g. midnight today, 7 and 30 days ago.
        user: Only this person's sessions and their delegations (``Window.user``); None: everyone's.

    Returns:
        One :class:`Spend` per start.
    """
    if not sinces:
        return []
    earliest = min(sinces)
    started = col(AgentSession.started_at)
    no_cost = col(AgentSession.cost_usd).is_(None)
    session_columns: list[Any] = []
    for since in sinces:
        inside = started >= since
        session_columns += [count_if(inside), _sum_if(inside, AgentSession.cost_usd), count_if(inside & no_cost)]
    created = col(Delegation.created_at)
    unpriced = col(Delegation.cost_usd).is_(None) | ~col(Delegation.priced)
    delegation_columns: list[Any] = []
    for since in sinces:
        inside = created >= since
        delegation_columns += [count_if(inside), _sum_if(inside, Delegation.cost_usd), count_if(inside & unpriced)]
    connection = db.connection()
    whose = Window(user=user)
    s_where = [started >= earliest, *whose.session_clauses(AgentSession.session_id)]
    d_where = [created >= earliest, *whose.session_clauses(Delegation.session_id)]
    s = connection.execute(select_columns(*session_columns).where(*s_where)).one()
    d = connection.execute(select_columns(*delegation_columns).where(*d_where)).one()
    result: list[Spend] = []
    for i, since in enumerate(sinces):
        sessions, session_cost, without_cost = s[3 * i : 3 * i + 3]
        calls, delegation_cost, unpriced_calls = d[3 * i : 3 * i + 3]
        result.append(
            Spend(
                since=since,
                sessions=int(sessions),
                session_cost_usd=float(session_cost or 0),
                sessions_without_cost=int(without_cost),
                delegation_calls=int(calls),
                # No attempt: $0; attempts but none priced: unknown (as delegation_stats reports it).
                delegation_cost_usd=float(delegation_cost) if delegation_cost is not None else (None if calls else 0.0),
                unpriced_delegation_calls=int(unpriced_calls),
            )
        )
    return result
