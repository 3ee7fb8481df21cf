"""Tool calls: how many, how often they fail, how long they take, per tool."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col

from server.analytics._sql import count_if, group_key, percentiles, ratio, select_columns
from server.analytics.window import Window
from server.store.models import ToolCall

__all__ = ["ToolStat", "ToolStats", "tool_stats"]


class ToolStat(BaseModel):
    """One tool's calls in the window."""

    tool_name: str
    calls: int
    errors: int
    pending: int = Field(description="Calls with no PostToolUse yet (running, or the session died).")
    failure_rate: float | None = Field(description="errors / finished calls; None when none finished.")
    p50_ms: float | None
    p95_ms: float | None


class ToolStats(BaseModel):
    """Tool calls started in the window, busiest tool first."""

    calls: int
    errors: int
    failure_rate: float | None
    tools: list[ToolStat]


def tool_stats(db: Session, window: Window) -> ToolStats:
    """Calls, failure rate and p50/p95 duration per tool, for tool calls started in ``window``."""
    where = [*window.time_clauses(ToolCall.started_at), *window.session_clauses(ToolCall.session_id)]
    # A window with a start ranges over the time index and sorts its rows by tool; without one, every row counts
    # and walking the (tool_name, ...) index in order beats sorting them all.
    tool = group_key(ToolCall.tool_name) if window.since is not None else col(ToolCall.tool_name)
    statement = (
        select_columns(
            ToolCall.tool_name,
            func.count(),
            count_if(col(ToolCall.status) == "error"),
            count_if(col(ToolCall.status) == "pending"),
            func.count(col(ToolCall.duration_ms)),
        )
        .where(*where)
        .group_by(tool)
    )
    counts = db.connection().execute(statement).all()
    sizes = {(r[0],): r[4] for r in counts}
    spread = percentiles(db, ToolCall.duration_ms, [ToolCall.tool_name], where, sizes)
    tools: list[ToolStat] = []
    for name, calls, errors, pending, _ in counts:
        p = spread.get((name,))
        tools.append(
            ToolStat(
                tool_name=name,
                calls=calls,
                errors=errors,
                pending=pending,
                failure_rate=ratio(errors, calls - pending),
                p50_ms=p.p50 if p else None,
                p95_ms=p.p95 if p else None,
            )
        )
    tools.sort(key=lambda t: (-t.calls, t.tool_name))
    calls = sum(t.calls for t in tools)
    errors = sum(t.errors for t in tools)
    return ToolStats(
        calls=calls, errors=errors, failure_rate=ratio(errors, calls - sum(t.pending for t in tools)), tools=tools
    )
