from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from server.analytics import Window, recent_sessions, sessions_summary
from tests.server.analytics.seed import T0, add, at, session, subagent, usage

ALL = Window()


def test_summary_counts_sessions_duration_and_sums_the_cost_of_record(engine: Engine) -> None:
    add(engine, session("a", 0, 30, cost_usd=1.25), session("b", 60, 90, cost_usd=0.5))
    with Session(engine) as db:
        summary = sessions_summary(db, ALL)
    assert summary.sessions == 2
    assert summary.ended == 2
    assert summary.duration_s_total == pytest.approx(120 * 60)
    assert summary.cost_usd == pytest.approx(1.75)
    assert summary.sessions_without_cost == 0


def test_a_session_without_a_cost_of_record_is_counted_apart_not_as_zero(engine: Engine) -> None:
    add(engine, session("a", cost_usd=2.0), session("b", 5, cost_usd=None, cost_source=None))
    with Session(engine) as db:
        summary = sessions_summary(db, ALL)
        rows = {r.session_id: r for r in recent_sessions(db, ALL)}
    assert summary.cost_usd == pytest.approx(2.0)
    assert summary.sessions_without_cost == 1
    assert rows["b"].cost_usd is None


def test_tokens_by_model_sum_model_usage_rows_of_main_agent_and_subagents_once(engine: Engine) -> None:
    add(
        engine,
        session("a"),
        usage("a", "claude-sonnet-4-5", 1, 0.01, input_tokens=10, output_tokens=20, cache_read_tokens=300),
        usage("a", "claude-sonnet-4-5", 2, 0.02, input_tokens=5, output_tokens=7, cache_creation_tokens=40),
        usage("a", "claude-haiku-4-5", 3, 0.001, agent_id="ag1", input_tokens=1, output_tokens=2),
        # the subagent's own totals must not be added again to the model totals
        subagent("a", "ag1", 3, 0.001, input_tokens=1, output_tokens=2),
    )
    with Session(engine) as db:
        by_model = {m.model: m for m in sessions_summary(db, ALL).by_model}
    sonnet = by_model["claude-sonnet-4-5"]
    assert (sonnet.responses, sonnet.input_tokens, sonnet.output_tokens) == (2, 15, 27)
    assert (sonnet.cache_read_tokens, sonnet.cache_creation_tokens) == (300, 40)
    assert sonnet.cost_usd == pytest.approx(0.03)
    assert by_model["claude-haiku-4-5"].output_tokens == 2


def test_an_unknown_model_is_shown_unpriced_never_as_zero_dollars(engine: Engine) -> None:
    add(engine, session("a"), usage("a", "mystery-model", 1, None), usage("a", "mystery-model", 2, None))
    with Session(engine) as db:
        (mystery,) = sessions_summary(db, ALL).by_model
    assert mystery.cost_usd is None
    assert mystery.unpriced_responses == 2


def test_window_and_project_filters_pick_the_sessions(engine: Engine) -> None:
    add(
        engine,
        session("old", -3 * 24 * 60),
        session("new", 0, project="web"),
        session("other", 10, project="api"),
        usage("new", "claude-sonnet-4-5", 1, 0.5),
        usage("other", "claude-sonnet-4-5", 11, 0.25),
    )
    recent = Window(since=at(-60))
    with Session(engine) as db:
        assert sessions_summary(db, recent).sessions == 2
        web = sessions_summary(db, Window(since=at(-60), project="web"))
        one = sessions_summary(db, Window(session_id="old"))
    assert web.sessions == 1
    assert web.by_model[0].cost_usd == pytest.approx(0.5)
    assert one.sessions == 1


def test_recent_sessions_are_newest_first_with_ids_costs_and_counts(engine: Engine) -> None:
    add(
        engine,
        session("a", 0, cost_usd=0.1),
        session("b", 100, cost_usd=0.2),
        usage("b", "claude-sonnet-4-5", 101, 0.1),
    )
    with Session(engine) as db:
        rows = recent_sessions(db, ALL, limit=1)
        both = recent_sessions(db, ALL)
    assert [r.session_id for r in rows] == ["b"]
    assert [(r.session_id, r.cost_usd) for r in both] == [("b", 0.2), ("a", 0.1)]
    assert both[0].started_at == at(100)
    assert both[0].started_at is not None and both[0].started_at.tzinfo is not None
    assert T0 < both[0].started_at
