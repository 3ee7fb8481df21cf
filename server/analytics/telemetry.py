"""Claude Code's own per-request costs (``api_request``, from its telemetry) where a session exported them.

Where telemetry exists for a subagent, its cost is the sum of its ``api_request`` rows: Claude Code's own figure
(e.g. 0.001446 a request, where genai-prices, reading the transcript's tokens, says 0.001326). Without telemetry
the transcript-priced cost stands, as before.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Float, func
from sqlmodel import Session, col, select

from server.store.models import ApiRequest, SubagentRun

__all__ = ["agent_costs", "main_agent_requests", "subagent_cost"]


def subagent_cost() -> ColumnElement[float | None]:
    """Per ``subagent_run`` row: the sum of its ``api_request`` costs, else its transcript-priced ``cost_usd``."""
    reported = (
        select(func.sum(ApiRequest.cost_usd))
        # Its own session only: a record naming another session's agent_id never changes that subagent's cost.
        .where(
            col(ApiRequest.agent_id) == col(SubagentRun.agent_id), col(ApiRequest.session_id) == SubagentRun.session_id
        )
        .correlate(SubagentRun)
        .scalar_subquery()
    )
    return func.coalesce(reported, col(SubagentRun.cost_usd), type_=Float)


def agent_costs(db: Session, session_id: str) -> dict[str, float]:
    """Per subagent of ``session_id`` with telemetry: the sum of its ``api_request`` costs."""
    statement = (
        select(ApiRequest.agent_id, func.sum(ApiRequest.cost_usd))
        .where(ApiRequest.session_id == session_id, col(ApiRequest.agent_id).is_not(None))
        .group_by(col(ApiRequest.agent_id))
    )
    return {agent: float(cost) for agent, cost in db.exec(statement).all() if agent and cost is not None}


def main_agent_requests(db: Session, session_id: str) -> list[tuple[datetime, float | None]]:
    """(time, cost) of the main agent's API requests in ``session_id`` from telemetry; empty without telemetry."""
    statement = select(ApiRequest.created_at, ApiRequest.cost_usd).where(
        ApiRequest.session_id == session_id, col(ApiRequest.agent_id).is_(None)
    )
    return [(when, cost) for when, cost in db.exec(statement).all()]
