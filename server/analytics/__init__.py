"""The one module of analytics queries: the ``stats`` MCP tool, ``switchboard stats`` and the dashboard all call
these, so a number has one definition.

Every query takes an open :class:`sqlmodel.Session` and a :class:`Window` (time window plus optional project and
session filters) and returns a pydantic model. Costs: a session's cost of record is ``session.cost_usd`` (Claude
Code's own figure); everything else is the price table applied to recorded tokens; unpriced is None, never 0.
"""

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Loaded on first use, not with the package: the MCP server registers the stats tool (a module of this package)
# before it answers initialize, and these modules bring SQLAlchemy and the store's tables with them.
_EXPORTS = {
    "ContextPressure": "context",
    "context_pressure": "context",
    "DelegationItem": "delegation_items",
    "DelegationStats": "delegations",
    "delegation_stats": "delegations",
    "HealthReport": "health",
    "provider_health": "health",
    "Patterns": "patterns",
    "find_patterns": "patterns",
    "RoutingLearning": "routing",
    "routing_learning": "routing",
    "SECTIONS": "report",
    "Section": "report",
    "StatsReport": "report",
    "build_report": "report",
    "DEFAULT_CLAUDE_MODEL": "savings",
    "Savings": "savings",
    "savings": "savings",
    "SessionDetail": "session_detail",
    "TimelineNode": "session_detail",
    "session_detail": "session_detail",
    "ModelTokens": "sessions",
    "SessionRow": "sessions",
    "SessionsSummary": "sessions",
    "recent_sessions": "sessions",
    "sessions_summary": "sessions",
    "SubagentStats": "subagents",
    "subagent_stats": "subagents",
    "ToolStats": "tools",
    "tool_stats": "tools",
    "DEFAULT_DAYS": "window",
    "Window": "window",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


class _Package(ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        # The import system binds each loaded submodule on its package. Two of them (savings, session_detail) are
        # named like the function they export, and the package has always offered the function under that name.
        if isinstance(value, ModuleType) and _EXPORTS.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
