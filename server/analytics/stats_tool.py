"""The ``stats`` MCP tool: the analytics of :mod:`server.analytics`, compact enough for an agent's context."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from server.analytics.window import Window
from server.store.models import AgentSession

__all__ = ["SECTIONS", "Section", "register_stats_tool"]

Section = Literal[
    "overview", "sessions", "tools", "subagents", "delegations", "health", "savings", "patterns", "context"
]
SECTIONS: tuple[Section, ...] = (
    "overview",
    "sessions",
    "tools",
    "subagents",
    "delegations",
    "health",
    "savings",
    "patterns",
    "context",
)


def _engine(ctx: Context[Any, Any]) -> Engine:
    # The app's lifespan yields a dataclass with at least ``engine`` and ``settings``.
    return ctx.request_context.lifespan_context.engine


async def stats(
    ctx: Context[Any, Any],
    section: Annotated[Section, Field(description="Which part to show; 'overview' summarises all.")] = "overview",
    days: Annotated[float, Field(gt=0, description="Look back this many days.")] = 7,
    project: Annotated[str | None, Field(description="Only sessions of this project.")] = None,
    session_id: Annotated[str | None, Field(description="Only this Claude Code session.")] = None,
    detail: Annotated[bool, Field(description="Longer lists; still bounded.")] = False,
) -> str:
    """Usage, cost, savings, provider health and routing recommendations from the switchboard store."""
    window = Window.last_days(days, project=project, session_id=session_id)
    with Session(_engine(ctx)) as db:
        count = db.exec(
            window.apply(
                select(func.count()).select_from(AgentSession), AgentSession.started_at, AgentSession.session_id
            )
        ).one()
    return f"{section} ({window.describe()}): {count} sessions"


def register_stats_tool(server: MCPServer[Any]) -> None:
    """Register the ``stats`` tool on ``server``; its lifespan context must carry an ``engine``."""
    server.add_tool(
        stats,
        name="stats",
        title="Switchboard stats",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
    )
