"""The store's high-water marks: what the live updates (:mod:`dashboard.live`) and the view cache
(:mod:`dashboard.cache`) compare to know that the data changed."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from server.store.models import (
    AgentSession,
    ConsensusRun,
    Delegation,
    Feedback,
    ModelUsage,
    Prompt,
    ProviderEvent,
    RawEvent,
    SolveRun,
    SubagentRun,
    ToolCall,
)

__all__ = ["store_marks"]


def store_marks(engine: Engine) -> dict[str, str]:
    """The newest row of each watched table, as strings (ids, or a timestamp where the key is not ordered)."""
    columns = {
        "session": func.max(AgentSession.last_event_at),
        "session_started": func.max(AgentSession.started_at),
        "raw_event": func.max(RawEvent.id),
        "prompt": func.max(Prompt.id),
        "tool_call": func.max(ToolCall.id),
        "subagent_run": func.max(SubagentRun.id),
        "model_usage": func.max(ModelUsage.id),
        "delegation": func.max(Delegation.id),
        "consensus_run": func.max(ConsensusRun.created_at),
        "solve_run": func.max(SolveRun.created_at),
        "provider_event": func.max(ProviderEvent.id),
        "feedback": func.max(Feedback.updated_at),
    }
    statement = select(*(select(c).scalar_subquery() for c in columns.values()))
    with engine.connect() as connection:
        row = connection.execute(statement).one()
    return {name: "" if value is None else str(value) for name, value in zip(columns, row, strict=True)}
