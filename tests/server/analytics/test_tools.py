from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from server.analytics import Window, tool_stats
from tests.server.analytics.seed import add, at, session, tool


def test_failure_rate_and_nearest_rank_percentiles_per_tool(engine: Engine) -> None:
    durations = [float(ms) for ms in range(10, 210, 10)]  # 20 calls: 10 .. 200 ms
    rows = [tool("s", "Bash", i, ms, status="error" if i < 4 else "ok") for i, ms in enumerate(durations)]
    add(engine, session("s"), *rows, tool("s", "Read", 1, 5), tool("s", "Read", 2, None, status="pending"))
    with Session(engine) as db:
        stats = tool_stats(db, Window())
    bash, read = stats.tools
    assert (bash.tool_name, bash.calls, bash.errors) == ("Bash", 20, 4)
    assert bash.failure_rate == pytest.approx(0.2)
    assert bash.p50_ms == 100.0  # rank ceil(0.5 * 20) = 10
    assert bash.p95_ms == 190.0  # rank ceil(0.95 * 20) = 19
    assert (read.calls, read.pending, read.failure_rate) == (2, 1, 0.0)
    assert read.p50_ms == read.p95_ms == 5.0
    assert stats.calls == 22
    assert stats.failure_rate == pytest.approx(4 / 21)


def test_tool_calls_outside_the_window_or_project_are_left_out(engine: Engine) -> None:
    add(
        engine,
        session("s", project="api"),
        session("t", project="web"),
        tool("s", "Read", -120),
        tool("s", "Read", 5),
        tool("t", "Read", 6),
    )
    with Session(engine) as db:
        stats = tool_stats(db, Window(since=at(0), project="api"))
    assert [(t.tool_name, t.calls) for t in stats.tools] == [("Read", 1)]
