"""The one module of analytics queries: the ``stats`` MCP tool, ``switchboard stats`` and the dashboard all call
these, so a number has one definition.

Every query takes an open :class:`sqlmodel.Session` and a :class:`Window` (time window plus optional project and
session filters) and returns a pydantic model. Costs: a session's cost of record is ``session.cost_usd`` (Claude
Code's own figure); everything else is the price table applied to recorded tokens; unpriced is None, never 0.
"""

from server.analytics.context import ContextPressure, context_pressure
from server.analytics.delegation_items import DelegationItem
from server.analytics.delegations import DelegationStats, delegation_stats
from server.analytics.health import HealthReport, provider_health
from server.analytics.patterns import Patterns, find_patterns
from server.analytics.report import SECTIONS, Section, StatsReport, build_report
from server.analytics.routing import RoutingLearning, routing_learning
from server.analytics.savings import DEFAULT_CLAUDE_MODEL, Savings, savings
from server.analytics.session_detail import SessionDetail, TimelineNode, session_detail
from server.analytics.sessions import ModelTokens, SessionRow, SessionsSummary, recent_sessions, sessions_summary
from server.analytics.subagents import SubagentStats, subagent_stats
from server.analytics.tools import ToolStats, tool_stats
from server.analytics.window import DEFAULT_DAYS, Window

__all__ = [
    "DEFAULT_CLAUDE_MODEL",
    "DEFAULT_DAYS",
    "SECTIONS",
    "ContextPressure",
    "DelegationItem",
    "DelegationStats",
    "HealthReport",
    "ModelTokens",
    "Patterns",
    "RoutingLearning",
    "Savings",
    "Section",
    "SessionDetail",
    "SessionRow",
    "SessionsSummary",
    "StatsReport",
    "SubagentStats",
    "TimelineNode",
    "ToolStats",
    "Window",
    "build_report",
    "context_pressure",
    "delegation_stats",
    "find_patterns",
    "provider_health",
    "recent_sessions",
    "routing_learning",
    "savings",
    "session_detail",
    "sessions_summary",
    "subagent_stats",
    "tool_stats",
]
