from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import TextContent
from sqlalchemy import Engine
from sqlmodel import SQLModel

from server.config import ContextConfig, SwitchboardConfig
from server.settings import Settings
from server.store.models import utcnow
from server.tools.stats import MAX_CHARS
from server.tools.table import TOOLS, build_tools
from tests.server.analytics.seed import add, delegation, session, tool, usage

pytestmark = pytest.mark.anyio


@dataclass
class Lifespan:
    store: Engine
    session_id: str | None = None


def _server(engine: Engine, current: str | None = None) -> MCPServer[Lifespan]:
    @asynccontextmanager
    async def lifespan(_: MCPServer[Lifespan]) -> AsyncGenerator[Lifespan]:
        yield Lifespan(engine, current)

    return MCPServer("stats-test", lifespan=lifespan, tools=build_tools(e for e in TOOLS if e.name == "stats"))


async def _call(engine: Engine, **arguments: object) -> str:
    with anyio.fail_after(30):
        async with Client(_server(engine)) as client:
            result = await client.call_tool("stats", arguments)
    assert not result.is_error
    (content,) = result.content
    assert isinstance(content, TextContent)
    return content.text


def _busy_store(engine: Engine) -> None:
    """Many sessions, tools and routes: more than fits in 2,000 tokens if nothing were cut."""
    now = utcnow()
    rows: list[SQLModel] = []
    for i in range(60):
        sid = f"session-{i:03d}"
        rows.append(session(sid, cost_usd=0.1 * i, started_at=now - timedelta(hours=i), ended_at=now))
        rows.append(usage(sid, f"model-{i % 7}", 0, 0.01, created_at=now))
        rows.append(tool(sid, f"mcp__server{i}__tool", 0, 10.0 * i, started_at=now - timedelta(minutes=i)))
        rows.append(delegation(sid, 0, provider=f"p{i}", model=f"m{i}", task_type=f"t{i % 9}", created_at=now))
    add(engine, *rows)


async def test_stats_overview_is_compact_and_shows_costs_of_record(engine: Engine) -> None:
    _busy_store(engine)
    text = await _call(engine)
    assert len(text) <= MAX_CHARS
    assert "Sessions: 60 (60 ended)" in text
    assert "session-000" in text
    assert "... 57 more" in text  # overview lists three rows per table


async def test_stats_detail_stays_within_the_budget(engine: Engine) -> None:
    _busy_store(engine)
    for section in ("overview", "sessions", "tools", "delegations"):
        text = await _call(engine, section=section, detail=True)
        assert len(text) <= MAX_CHARS, section


async def test_stats_section_and_session_filter_narrow_the_report(engine: Engine) -> None:
    _busy_store(engine)
    text = await _call(engine, section="tools", session_id="session-004")
    assert "Tools: 1 calls, 0% failed" in text
    assert "mcp__server4__tool" in text
    assert "Sessions:" not in text


async def test_stats_on_an_empty_store_says_zero_not_unpriced(engine: Engine) -> None:
    text = await _call(engine, days=1)
    assert "Sessions: 0 (0 ended)" in text
    assert "unpriced" not in text.split("Method:")[0]


async def test_the_switchboard_app_serves_stats_with_its_config_threshold(engine: Engine, settings: Settings) -> None:
    from server.tools.app import SessionOptions, build_server

    add(engine, session("s-1", started_at=utcnow() - timedelta(hours=1), context_tokens=60_000))
    config = SwitchboardConfig(context=ContextConfig(threshold=0.5, window_tokens=100_000))
    app = build_server(settings, config, SessionOptions(store=engine, environ={}, ingest=False))
    with anyio.fail_after(30):
        async with Client(app) as client:
            result = await client.call_tool("stats", {"section": "context"})
    (content,) = result.content
    assert isinstance(content, TextContent)
    assert "Context pressure (threshold 50% of 100,000)" in content.text
    assert "- s-1: 60% (60,000 tokens)" in content.text


async def test_stats_for_one_session_looks_back_to_its_start_by_default(engine: Engine) -> None:
    add(engine, session("old-one", cost_usd=0.5, started_at=utcnow() - timedelta(days=40)))
    text = await _call(engine, section="sessions", session_id="old-one")
    assert "Sessions: 1 (1 ended)" in text
    assert "Sessions: 0" in await _call(engine, section="sessions", session_id="old-one", days=7)


async def test_stats_for_the_current_session_uses_the_callers_session_id(engine: Engine) -> None:
    _busy_store(engine)
    with anyio.fail_after(30):
        async with Client(_server(engine, current="session-007")) as client:
            mine = await client.call_tool("stats", {"section": "sessions", "session_id": "current"})
        async with Client(_server(engine)) as client:
            unknown = await client.call_tool("stats", {"section": "sessions", "session_id": "current"})
    (content,) = mine.content
    assert isinstance(content, TextContent)
    assert "Sessions: 1 (1 ended)" in content.text
    assert "session-007" in content.text
    assert unknown.is_error


@pytest.mark.parametrize("days", [1e10, 36_501])
async def test_stats_refuses_a_look_back_beyond_a_century_with_the_reason(engine: Engine, days: float) -> None:
    with anyio.fail_after(30):
        async with Client(_server(engine)) as client:
            result = await client.call_tool("stats", {"days": days})
    assert result.is_error
    (content,) = result.content
    assert isinstance(content, TextContent)
    assert "days" in content.text
    assert "less than or equal to 36500" in content.text


async def test_stats_answers_for_the_longest_look_back(engine: Engine) -> None:
    assert "Sessions: 0" in await _call(engine, days=36_500)
