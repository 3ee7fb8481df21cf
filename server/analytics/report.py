"""A whole stats report: the sections the ``stats`` tool, ``switchboard stats`` and the dashboard show."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import Session

from server.analytics.context import ContextPressure, context_pressure
from server.analytics.delegations import DelegationStats, delegation_stats
from server.analytics.health import HealthReport, provider_health
from server.analytics.patterns import Patterns, find_patterns
from server.analytics.routing import RoutingLearning, routing_learning
from server.analytics.savings import DEFAULT_CLAUDE_MODEL, Savings, savings
from server.analytics.sessions import SessionRow, SessionsSummary, recent_sessions, sessions_summary
from server.analytics.subagents import SubagentStats, subagent_stats
from server.analytics.tools import ToolStats, tool_stats
from server.analytics.window import Window
from server.config import ContextConfig, RoutingConfig, SwitchboardConfig

__all__ = ["SECTIONS", "Section", "StatsReport", "build_report"]

Section = Literal[
    "sessions", "tools", "subagents", "delegations", "health", "savings", "patterns", "context", "routing"
]
SECTIONS: tuple[Section, ...] = (
    "sessions",
    "tools",
    "subagents",
    "delegations",
    "health",
    "savings",
    "patterns",
    "context",
    "routing",
)


class StatsReport(BaseModel):
    """The chosen sections over one window; sections not asked for are None."""

    window: Window
    window_text: str
    sessions: SessionsSummary | None = None
    recent_sessions: list[SessionRow] | None = Field(default=None, description="Newest first, with ids and costs.")
    tools: ToolStats | None = None
    subagents: SubagentStats | None = None
    delegations: DelegationStats | None = None
    health: HealthReport | None = None
    savings: Savings | None = None
    patterns: Patterns | None = None
    context: ContextPressure | None = None
    routing: RoutingLearning | None = None


def build_report(
    db: Session,
    window: Window,
    sections: Iterable[Section] = SECTIONS,
    *,
    session_limit: int = 20,
    context: ContextConfig | None = None,
    default_claude_model: str = DEFAULT_CLAUDE_MODEL,
    routing: SwitchboardConfig | RoutingConfig | None = None,
) -> StatsReport:
    """Run the queries of the chosen ``sections`` over ``window`` (patterns reuse the tool and delegation stats)."""
    chosen = set(sections)
    report = StatsReport(window=window, window_text=window.describe())
    if "sessions" in chosen:
        report.sessions = sessions_summary(db, window)
        report.recent_sessions = recent_sessions(db, window, limit=session_limit)
    if chosen & {"tools", "patterns"}:
        report.tools = tool_stats(db, window)
    if chosen & {"delegations", "patterns"}:
        report.delegations = delegation_stats(db, window)
    if "subagents" in chosen:
        report.subagents = subagent_stats(db, window)
    if "health" in chosen:
        report.health = provider_health(db, window)
    if "savings" in chosen:
        report.savings = savings(db, window, default_claude_model)
    if "patterns" in chosen and report.delegations is not None and report.tools is not None:
        report.patterns = find_patterns(report.delegations, report.tools)
    if "context" in chosen:
        report.context = context_pressure(db, window, context)
    if "routing" in chosen:
        report.routing = routing_learning(db, window, routing)
    if "tools" not in chosen:
        report.tools = None
    if "delegations" not in chosen:
        report.delegations = None
    return report
