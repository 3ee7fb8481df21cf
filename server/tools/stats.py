"""The ``stats`` MCP tool: the analytics of :mod:`server.analytics`, compact enough for an agent's context.

Registering the tool imports no analytics, SQLAlchemy nor store: the MCP server answers ``initialize`` first,
and the queries load in the worker thread that runs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from server.config import ContextConfig, RoutingConfig, SwitchboardConfig
from server.limits import MAX_DAYS

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from server.analytics.report import Section
    from server.analytics.window import Window

__all__ = ["MAX_CHARS", "ToolSection", "stats", "stats_text"]

ToolSection = Literal[
    "overview", "sessions", "tools", "subagents", "delegations", "health", "savings", "patterns", "context", "routing"
]

# About 2,000 tokens at ~4 characters a token: the tool's output stays a small part of the caller's context.
MAX_CHARS = 8_000
CURRENT = "current"
_ROWS = {"overview": 3, "section": 10, "detail": 25}


def _engine(ctx: Context[Any, Any]) -> Engine:
    # The app's lifespan yields an object with at least ``store`` (and ``settings``, maybe ``config``).
    return ctx.request_context.lifespan_context.store


def _current_session(ctx: Context[Any, Any]) -> str:
    # The app learns the calling Claude Code session from CLAUDE_CODE_SESSION_ID (Runtime.session_id).
    current = getattr(ctx.request_context.lifespan_context, "session_id", None)
    if not isinstance(current, str) or not current:
        raise ToolError("the calling session is not known here (no CLAUDE_CODE_SESSION_ID): pass its id")
    return current


def _routing_config(ctx: Context[Any, Any]) -> SwitchboardConfig:
    """The config in force: its routing lists and providers give the Routing section's written order."""
    config = getattr(ctx.request_context.lifespan_context, "config", None)
    return config if isinstance(config, SwitchboardConfig) else SwitchboardConfig()


def _context_config(ctx: Context[Any, Any]) -> ContextConfig:
    config = getattr(ctx.request_context.lifespan_context, "config", None)
    return config.context if isinstance(config, SwitchboardConfig) else ContextConfig()


def stats_text(
    engine: Engine,
    window: Window,
    section: ToolSection = "overview",
    detail: bool = False,
    context: ContextConfig | None = None,
    routing: SwitchboardConfig | RoutingConfig | None = None,
) -> str:
    """The tool's text: the chosen section (or all, for ``overview``) as tables, cut to :data:`MAX_CHARS`."""
    from sqlmodel import Session

    from server.analytics.render import render_report
    from server.analytics.report import SECTIONS, build_report

    sections: tuple[Section, ...] = SECTIONS if section == "overview" else (section,)
    rows = _ROWS["detail" if detail else "overview" if section == "overview" else "section"]
    with Session(engine) as db:
        report = build_report(db, window, sections, session_limit=rows, context=context, routing=routing)
    text = render_report(report, limit=rows)
    if len(text) > MAX_CHARS:
        cut = text.rfind("\n", 0, MAX_CHARS - 80)
        text = text[: max(cut, 0)] + "\n... cut to fit; ask for one section, or use `switchboard stats`"
    return text


def _window(days: float | None, project: str | None, session_id: str | None) -> Window:
    from server.analytics.window import DEFAULT_DAYS, Window

    if days is None and session_id is not None:
        return Window(project=project, session_id=session_id)
    return Window.last_days(days or DEFAULT_DAYS, project=project, session_id=session_id)


async def stats(
    ctx: Context[Any, Any],
    section: Annotated[ToolSection, Field(description="One part, or 'overview' for a summary of all.")] = "overview",
    days: Annotated[
        float | None,
        Field(gt=0, le=MAX_DAYS, description="Look back this many days; default 7, or all time with session_id."),
    ] = None,
    project: Annotated[str | None, Field(description="Only sessions of this project.")] = None,
    session_id: Annotated[
        str | None, Field(description="Only this Claude Code session; 'current' for the one calling, if known.")
    ] = None,
    detail: Annotated[bool, Field(description="Longer lists (still bounded to about 2,000 tokens).")] = False,
) -> str:
    """Usage, cost of record, savings from delegation, provider health, tool and subagent patterns, and routing
    recommendations with the numbers behind them, from the switchboard store. Unpriced usage says so.
    """
    if session_id == CURRENT:
        session_id = _current_session(ctx)
    context, routing = _context_config(ctx), _routing_config(ctx)
    recorder = getattr(ctx.request_context.lifespan_context, "recorder", None)
    if recorder is not None:
        await recorder.settled()  # this session's last calls may still be on their way to the store
    # The queries are synchronous SQLAlchemy, the app may still be opening the store (``engine`` then blocks
    # until it is open), and the analytics may not be imported yet: all of it stays off the event loop.
    return await anyio.to_thread.run_sync(
        lambda: stats_text(_engine(ctx), _window(days, project, session_id), section, detail, context, routing)
    )
