from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from server.analytics import Window, delegation_stats, find_patterns, tool_stats
from server.analytics.patterns import Patterns
from tests.server.analytics.seed import add, delegation, session, tool


def _patterns(engine: Engine) -> Patterns:
    with Session(engine) as db:
        return find_patterns(delegation_stats(db, Window()), tool_stats(db, Window()))


def _calls(n: int, failures: int, **kw: object) -> list[SQLModel]:
    return [delegation("s", i, status="timeout" if i < failures else "ok", **kw) for i in range(n)]


def test_a_cheaper_model_as_good_as_the_first_choice_is_recommended_with_its_numbers(engine: Engine) -> None:
    add(
        engine,
        session("s"),
        *_calls(40, 2, provider="openai", model="gpt-4o", cost_usd=0.005),
        *_calls(50, 1, attempt=1, cost_usd=0.001),
    )
    patterns = _patterns(engine)
    (advice,) = [r for r in patterns.recommendations if r.kind == "route"]
    assert advice.text.startswith("route code_fix to groq:llama-3.3-70b-versatile: 98% success over 50 calls, ")
    assert "cheaper per success than the current first choice openai:gpt-4o (95% over 40)" in advice.text
    assert advice.numbers["cheaper_by"] == round((0.005 * 40 / 38) / (0.001 * 50 / 49), 2)
    first = [r for r in patterns.routes if r.first_choice]
    assert [r.route for r in first] == ["openai:gpt-4o"]


def test_a_failing_route_is_flagged_and_too_few_calls_recommend_nothing(engine: Engine) -> None:
    add(
        engine,
        session("s"),
        *_calls(30, 12, provider="openai", model="gpt-4o", cost_usd=0.005),
        *_calls(5, 0, attempt=1, cost_usd=0.0001),
    )
    patterns = _patterns(engine)
    assert [r.kind for r in patterns.recommendations] == ["demote"]
    assert patterns.recommendations[0].text == "openai:gpt-4o fails on code_fix: 60% success over 30 calls"


def test_slow_or_failing_tools_are_reported_with_their_numbers(engine: Engine) -> None:
    add(
        engine,
        session("s"),
        *[tool("s", "WebFetch", i, 45_000, status="error" if i < 5 else "ok") for i in range(10)],
        *[tool("s", "Read", i, 5) for i in range(30)],
    )
    (slow,) = _patterns(engine).tools
    assert slow.tool_name == "WebFetch"
    assert slow.reason == "fails 50% of 10 calls; p95 45 s"
