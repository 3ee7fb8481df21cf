"""Every agent's sessions side by side: counts, spend and models per agent, and a filter on agent."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from server.analytics import Window, delegation_stats, recent_sessions, sessions_summary
from server.analytics.render import render_report
from server.analytics.report import build_report
from tests.server.analytics.seed import add, delegation, session, usage


def _three_agents(engine: Engine) -> None:
    add(
        engine,
        session("claude-1", 0, cost_usd=1.0),
        session("claude-2", 10, cost_usd=2.0),
        session("codex-1", 20, agent="codex", cost_usd=0.25, cost_source="estimated", models=["gpt-5.1-codex"]),
        session("gemini-1", 30, agent="gemini", cost_usd=None, cost_source=None, models=["gemini-9"]),
        usage("claude-1", "claude-sonnet-4-5", 1, 1.0),
        usage("codex-1", "gpt-5.1-codex", 21, 0.25),
        usage("gemini-1", "gemini-9", 31, None),
        delegation("codex-1", 22),
        delegation("codex-1", 23),
        delegation("claude-1", 2),
    )


def test_the_summary_gives_sessions_spend_and_models_per_agent(engine: Engine) -> None:
    _three_agents(engine)
    with Session(engine) as db:
        agents = {a.agent: a for a in sessions_summary(db, Window()).by_agent}
    assert list(agents) == ["claude-code", "codex", "gemini"]
    assert (agents["claude-code"].sessions, agents["claude-code"].cost_usd) == (2, pytest.approx(3.0))
    assert (agents["codex"].sessions, agents["codex"].cost_usd, agents["codex"].models) == (
        1,
        pytest.approx(0.25),
        ["gpt-5.1-codex"],
    )
    assert (agents["gemini"].cost_usd, agents["gemini"].sessions_without_cost) == (0.0, 1)  # unknown, not $0 spent


def test_the_agent_filter_narrows_sessions_and_the_delegations_made_from_them(engine: Engine) -> None:
    _three_agents(engine)
    codex = Window(agent="codex")
    with Session(engine) as db:
        rows = recent_sessions(db, codex)
        assert [(r.session_id, r.agent, r.delegations) for r in rows] == [("codex-1", "codex", 2)]
        assert delegation_stats(db, codex).calls == 2
        assert delegation_stats(db, Window()).calls == 3
        assert [m.model for m in sessions_summary(db, codex).by_model] == ["gpt-5.1-codex"]


def test_stats_text_shows_the_agent_table_and_each_sessions_agent(engine: Engine) -> None:
    _three_agents(engine)
    with Session(engine) as db:
        text = render_report(build_report(db, Window(), ("sessions",)), limit=10)
    assert "agent" in text and "codex" in text and "gemini" in text and "gpt-5.1-codex" in text


def test_the_user_filter_keeps_one_persons_sessions_and_their_delegations(engine: Engine) -> None:
    add(
        engine,
        session("ann-1", 0, user="ann", cost_usd=1.0),
        session("ben-1", 5, user="ben", cost_usd=4.0),
        delegation("ben-1", 6),
    )
    with Session(engine) as db:
        assert sessions_summary(db, Window(user="ann")).cost_usd == pytest.approx(1.0)
        assert delegation_stats(db, Window(user="ben")).calls == 1
        assert delegation_stats(db, Window(user="ann")).calls == 0
