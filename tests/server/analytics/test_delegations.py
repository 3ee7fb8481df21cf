from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from server.analytics import Window, delegation_stats
from tests.server.analytics.seed import add, consensus, delegation, session


def test_routes_count_success_fallbacks_cache_hits_tokens_and_cost(engine: Engine) -> None:
    add(
        engine,
        session("s"),
        delegation(
            "s", 1, request_id="r1", provider="openai", model="gpt-4o", status="timeout", cost_usd=0.0, latency_ms=30000
        ),
        delegation("s", 2, request_id="r1", attempt=1, cost_usd=0.002, latency_ms=400),
        delegation("s", 3, request_id="r2", cache_hit=True, cost_usd=0.0, latency_ms=2),
        delegation("s", 4, request_id="r3", status="rate_limited", cost_usd=0.0, latency_ms=100),
        delegation("s", 5, request_id="r4", provider="local", model="qwen", cost_usd=None, priced=False),
    )
    with Session(engine) as db:
        stats = delegation_stats(db, Window())
    routes = {(r.route, r.task_type): r for r in stats.by_route}
    groq = routes[("groq:llama-3.3-70b-versatile", "code_fix")]
    assert (groq.calls, groq.ok, groq.fallbacks, groq.cache_hits) == (3, 2, 1, 1)
    assert groq.success_rate == pytest.approx(2 / 3)
    assert groq.cost_usd == pytest.approx(0.002)
    assert (groq.input_tokens, groq.output_tokens) == (3000, 1500)
    assert (groq.p50_ms, groq.p95_ms) == (100.0, 400.0)
    local = routes[("local:qwen", "code_fix")]
    assert (local.cost_usd, local.unpriced_calls) == (None, 1)
    assert (stats.calls, stats.requests, stats.ok, stats.fallbacks) == (5, 4, 3, 1)
    assert stats.errors == {"timeout": 1, "rate_limited": 1}
    assert stats.unpriced_calls == 1
    assert stats.cost_usd == pytest.approx(0.002)


def test_consensus_runs_are_summarised_by_strategy(engine: Engine) -> None:
    add(
        engine,
        consensus("c1", 1, agreement=1.0, total_cost_usd=0.01, latency_ms=100),
        consensus("c2", 2, agreement=0.5, total_cost_usd=0.03, latency_ms=300, status="no_quorum"),
        consensus("c3", 3, strategy="judge", agreement=None, total_cost_usd=None),
    )
    with Session(engine) as db:
        vote, judge = delegation_stats(db, Window()).consensus
    assert (vote.strategy, vote.runs, vote.ok) == ("vote", 2, 1)
    assert vote.mean_agreement == pytest.approx(0.75)
    assert vote.cost_usd == pytest.approx(0.04)
    assert vote.p50_ms == 100.0
    assert (judge.runs, judge.cost_usd, judge.mean_agreement) == (1, None, None)
