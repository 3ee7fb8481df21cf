from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from server.analytics import Window, subagent_stats
from server.analytics.subagents import nesting_depths
from tests.server.analytics.seed import add, session, subagent


def test_runs_by_type_sum_tokens_and_priced_costs_and_count_unpriced_runs(engine: Engine) -> None:
    add(
        engine,
        session("s"),
        subagent("s", "a", 1, 0.25, agent_type="Explore", input_tokens=100, output_tokens=10, duration_ms=1000),
        subagent("s", "b", 2, 0.50, agent_type="Explore", input_tokens=200, output_tokens=20, duration_ms=3000),
        subagent("s", "c", 3, None, agent_type="Plan", parent_agent_id="b", unpriced_models=["mystery"]),
        subagent("s", "d", 4, 0.1, agent_type="Plan", parent_agent_id="c"),
    )
    with Session(engine) as db:
        stats = subagent_stats(db, Window())
    explore, plan = stats.by_type
    assert (explore.agent_type, explore.runs, explore.input_tokens, explore.output_tokens) == ("Explore", 2, 300, 30)
    assert explore.cost_usd == pytest.approx(0.75)
    assert (explore.p50_ms, explore.p95_ms) == (1000.0, 3000.0)
    assert (plan.runs, plan.nested_runs, plan.unpriced_runs) == (2, 2, 1)
    assert plan.cost_usd == pytest.approx(0.1)
    assert stats.unpriced_runs == 1
    assert stats.cost_usd == pytest.approx(0.85)
    assert stats.max_depth == 3


def test_nesting_depth_follows_parents_and_survives_a_cycle() -> None:
    assert nesting_depths({"a": None, "b": "a", "c": "b", "x": "gone"}) == {"a": 1, "b": 2, "c": 3, "x": 1}
    assert set(nesting_depths({"p": "q", "q": "p"})) == {"p", "q"}


def test_with_telemetry_a_subagents_cost_is_the_sum_of_its_api_requests(engine: Engine) -> None:
    from server.analytics.session_detail import session_detail
    from server.store.models import ApiRequest

    def request(agent_id: str | None, cost: float, sequence: int) -> ApiRequest:
        return ApiRequest(session_id="s", agent_id=agent_id, cost_usd=cost, event_sequence=sequence)

    add(
        engine,
        session("s"),
        subagent("s", "told", 1, 0.001326),  # priced from the transcript by genai-prices
        subagent("s", "untold", 2, 0.5),  # no telemetry for this one: its priced cost stands
        subagent("s", "unpriced", 3, None, unpriced_models=["mystery"]),
        request("told", 0.001446, 1),
        request("told", 0.001446, 2),
        request(None, 9.0, 3),  # the main agent's: not a subagent's
        request("unpriced", 0.25, 4),  # telemetry prices what genai-prices could not
    )
    with Session(engine) as db:
        stats = subagent_stats(db, Window())
        detail = session_detail(db, "s")
    assert stats.cost_usd == pytest.approx(0.002892 + 0.5 + 0.25) and stats.unpriced_runs == 0
    assert detail is not None
    costs = {node.id: (node.own_cost_usd, node.unpriced) for node in _walk(detail.timeline) if node.kind == "subagent"}
    assert costs == {"told": (pytest.approx(0.002892), False), "untold": (0.5, False), "unpriced": (0.25, False)}


def _walk(nodes: list[Any]) -> list[Any]:
    return [n for node in nodes for n in (node, *_walk(node.children))]
