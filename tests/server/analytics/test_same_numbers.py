"""The SQL-side analytics return the numbers of their plain definitions (tests/server/analytics/reference.py).

Sums of floats may be added in another order in SQL, so money and durations are compared to 1e-9 relative;
counts, tokens, percentiles and names exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col

import server.analytics._sql as sql_helpers
from server.analytics._savings_groups import grouped_totals
from server.analytics._sql import percentiles
from server.analytics.delegations import delegation_stats
from server.analytics.savings import DEFAULT_CLAUDE_MODEL, savings
from server.analytics.sessions import sessions_summary, tokens_by_model
from server.analytics.spend import spend_since
from server.analytics.subagents import subagent_stats
from server.analytics.tools import tool_stats
from server.analytics.window import Window
from server.store.models import Delegation, SubagentRun
from tests.server.analytics import reference
from tests.server.analytics.random_store import build
from tests.server.analytics.seed import T0

WINDOWS = {
    "all time": Window(),
    "since day 2": Window(since=T0 + timedelta(days=2)),
    "days 1 to 4": Window(since=T0 + timedelta(days=1), until=T0 + timedelta(days=4)),
    "project web": Window(project="web"),
    "one session": Window(session_id="rs003"),
    "since day 3, project api": Window(since=T0 + timedelta(days=3), project="api"),
}


def close(value: float | None) -> object:
    return None if value is None else pytest.approx(value, rel=1e-9, abs=1e-12)  # pyright: ignore[reportUnknownMemberType]


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    build(engine)
    with Session(engine) as session:
        yield session


@pytest.mark.parametrize("name", WINDOWS)
def test_sessions_summary_sums_in_sql_what_the_per_row_definition_sums(db: Session, name: str) -> None:
    window = WINDOWS[name]
    expected = reference.sessions_summary(db, window)
    got = sessions_summary(db, window)
    assert (got.sessions, got.ended, got.sessions_without_cost) == (
        expected["sessions"],
        expected["ended"],
        expected["sessions_without_cost"],
    )
    assert got.duration_s_total == close(expected["duration_s_total"])
    assert got.cost_usd == close(expected["cost_usd"])
    assert [
        (m.model, m.responses, m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_creation_tokens)
        for m in got.by_model
    ] == [(m["model"], m["responses"], m["in"], m["out"], m["read"], m["write"]) for m in expected["by_model"]]
    assert [(m.cost_usd, m.unpriced_responses) for m in got.by_model] == [
        (close(m["cost"]), m["un"]) for m in expected["by_model"]
    ]
    assert tokens_by_model(db, window) == got.by_model
    assert sessions_summary(db, window, by_model=False) == got.model_copy(update={"by_model": []})


def _tool_numbers(db: Session, window: Window) -> dict[str, tuple[object, ...]]:
    stats = tool_stats(db, window)
    return {t.tool_name: (t.calls, t.errors, t.pending, t.p50_ms, t.p95_ms) for t in stats.tools}


@pytest.mark.parametrize("name", WINDOWS)
def test_tool_stats_match_the_definition_whether_percentiles_are_fetched_or_seeked(
    db: Session, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = WINDOWS[name]
    expected = reference.tool_stats(db, window)
    assert _tool_numbers(db, window) == expected
    monkeypatch.setattr(sql_helpers, "SEEK_ABOVE", 0)  # every group by rank seeks, as on a big store
    assert _tool_numbers(db, window) == expected


def test_seeked_percentiles_equal_fetched_ones_for_groups_with_a_null_key(db: Session) -> None:
    where = [col(SubagentRun.started_at) >= T0 + timedelta(days=1)]
    fetched = percentiles(db, SubagentRun.duration_ms, [SubagentRun.agent_type], where)
    sizes = {key: 0 for key in fetched}
    for key in fetched:
        in_group = col(SubagentRun.agent_type).is_(None) if key[0] is None else col(SubagentRun.agent_type) == key[0]
        sizes[key] = len(
            db.exec(
                sql_helpers.select_columns(SubagentRun.id)
                .where(in_group, *where)
                .where(col(SubagentRun.duration_ms).is_not(None))
            ).all()
        )
    assert (None,) in fetched
    assert percentiles(db, SubagentRun.duration_ms, [SubagentRun.agent_type], where, sizes, seek_above=0) == fetched


@pytest.mark.parametrize("name", WINDOWS)
def test_subagent_stats_summed_in_sql_match_the_per_run_definition(db: Session, name: str) -> None:
    window = WINDOWS[name]
    expected = reference.subagent_stats(db, window)
    got = subagent_stats(db, window)
    assert (got.runs, got.max_depth) == (expected["runs"], expected["max_depth"])
    assert {
        s.agent_type: (
            s.runs,
            s.nested_runs,
            s.input_tokens,
            s.output_tokens,
            s.cache_read_tokens,
            s.cache_creation_tokens,
            close(s.cost_usd),
            s.unpriced_runs,
            s.p50_ms,
            s.p95_ms,
        )
        for s in got.by_type
    } == expected["by_type"]


@pytest.mark.parametrize("name", WINDOWS)
def test_savings_match_pricing_each_answer_one_at_a_time(db: Session, name: str) -> None:
    window = WINDOWS[name]
    expected = reference.savings(db, window)
    got = savings(db, window)
    assert got.delegated_calls == expected["delegated_calls"]
    assert got.unpriced_calls == expected["unpriced_calls"]
    assert got.unmeasured_calls == expected["unmeasured_calls"]
    assert got.claude_models == expected["claude_models"]
    assert {
        (r.provider, r.model): [
            r.calls,
            close(r.actual_usd),
            close(r.counterfactual_usd),
            close(r.claude_overhead_usd),
            close(r.saved_usd),
        ]
        for r in got.by_route
    } == {
        key: [n, close(actual), close(cf), close(overhead), close(cf - actual - overhead)]
        for key, (n, actual, cf, overhead) in expected["routes"].items()
    }


def test_spend_since_gives_each_window_the_numbers_of_its_summaries(db: Session) -> None:
    starts = [T0 + timedelta(days=5, hours=7), T0 + timedelta(days=3), T0 - timedelta(days=1), T0 + timedelta(days=9)]
    for spend, since in zip(spend_since(db, starts), starts, strict=True):
        summary = sessions_summary(db, Window(since=since), by_model=False)
        delegated = delegation_stats(db, Window(since=since))
        assert spend.since == since
        assert (spend.sessions, spend.sessions_without_cost) == (summary.sessions, summary.sessions_without_cost)
        assert spend.session_cost_usd == close(summary.cost_usd)
        assert (spend.delegation_calls, spend.unpriced_delegation_calls) == (delegated.calls, delegated.unpriced_calls)
        assert spend.delegation_cost_usd == close(delegated.cost_usd)
    assert spend_since(db, []) == []


def test_savings_are_summed_in_sql_below_price_tiers_and_priced_call_by_call_past_one(db: Session) -> None:
    def grouped(window: Window) -> object:
        where = [
            col(Delegation.consensus_run_id).is_(None),
            *window.time_clauses(Delegation.created_at),
            *window.session_clauses(Delegation.session_id),
        ]
        return grouped_totals(db, where, DEFAULT_CLAUDE_MODEL)

    # All time holds an answer of over 200,000 input tokens (Claude's long-context tier); days 1 to 4 do not.
    assert grouped(WINDOWS["all time"]) is None
    assert grouped(WINDOWS["days 1 to 4"]) is not None
