from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from server.analytics import TimelineNode, session_detail
from server.store.models import ThreadMessage
from tests.server.analytics.seed import add, at, delegation, output, prompt, session, subagent, tool, usage


def _kinds(nodes: list[TimelineNode]) -> list[tuple[str, str]]:
    return [(n.kind, n.label) for n in nodes]


def test_timeline_nests_subagents_and_their_tool_calls_under_the_prompt_with_costs_rolled_up(engine: Engine) -> None:
    add(
        engine,
        session("s", cost_usd=3.5),
        prompt("s", 1, "first"),
        prompt("s", 10, "second"),
        usage("s", "claude-sonnet-4-5", 2, 0.10),
        usage("s", "claude-sonnet-4-5", 11, 0.20),
        tool("s", "Read", 3),
        subagent("s", "outer", 4, 0.30, agent_type="Plan"),
        subagent("s", "inner", 5, 0.05, agent_type="Explore", parent_agent_id="outer"),
        tool("s", "Grep", 5.5, agent_id="inner"),
        delegation("s", 12, cost_usd=0.002, output_id="out1"),
        output("out1", "the full answer"),
    )
    with Session(engine) as db:
        detail = session_detail(db, "s")
    assert detail is not None
    assert detail.session.cost_usd == 3.5
    first, second = detail.timeline
    assert _kinds(first.children) == [("tool_call", "Read"), ("subagent", "Plan")]
    (inner,) = first.children[1].children
    assert (inner.kind, inner.label) == ("subagent", "Explore")
    assert _kinds(inner.children) == [("tool_call", "Grep")]
    assert first.own_cost_usd == pytest.approx(0.10)
    assert first.children[1].cost_usd == pytest.approx(0.35)
    assert first.cost_usd == pytest.approx(0.45)
    assert _kinds(second.children) == [("delegation", "groq:llama-3.3-70b-versatile")]
    assert second.cost_usd == pytest.approx(0.202)
    assert detail.delegations[0].answer == "the full answer"


def test_unpriced_usage_marks_its_node_and_ancestors_unpriced(engine: Engine) -> None:
    add(
        engine,
        session("s"),
        prompt("s", 1),
        subagent("s", "a1", 2, None, unpriced_models=["mystery"]),
        delegation("s", 3, cost_usd=None, priced=False, model="mystery"),
    )
    with Session(engine) as db:
        detail = session_detail(db, "s")
    assert detail is not None
    (p,) = detail.timeline
    assert p.unpriced
    assert p.cost_usd is None
    assert all(child.unpriced for child in p.children)


def test_an_unknown_session_has_no_detail(engine: Engine) -> None:
    with Session(engine) as db:
        assert session_detail(db, "nope") is None


def test_delegations_carry_the_task_and_full_answer_of_their_thread_exchange(engine: Engine) -> None:
    def message(role: str, content: str, minute: float) -> ThreadMessage:
        return ThreadMessage(thread_id="th", session_id="s", role=role, content=content, created_at=at(minute))

    add(
        engine,
        session("s"),
        message("user", "write the parser", 1),
        message("assistant", "def parse(): ...", 1),
        message("user", "now add tests", 20),
        message("assistant", "def test_parse(): ...", 20),
        delegation("s", 1, request_id="r1", thread_id="th", provider="openai", status="timeout"),
        delegation("s", 1.01, request_id="r1", attempt=1, thread_id="th"),
        delegation("s", 20.01, request_id="r2", thread_id="th", output_id="cut"),
        output("cut", "def test_parse(): ... (the whole of it)"),
    )
    with Session(engine) as db:
        detail = session_detail(db, "s")
    assert detail is not None
    failed, answered, later = detail.delegations
    assert (failed.task, failed.answer) == ("write the parser", None)
    assert (answered.task, answered.answer) == ("write the parser", "def parse(): ...")
    assert (later.task, later.answer) == ("now add tests", "def test_parse(): ... (the whole of it)")


def test_with_telemetry_a_prompts_own_cost_is_the_sum_of_the_main_agents_api_requests(engine: Engine) -> None:
    from server.store.models import ApiRequest

    def request(minute: float, cost: float, agent_id: str | None = None) -> ApiRequest:
        return ApiRequest(session_id="s", created_at=at(minute), cost_usd=cost, agent_id=agent_id)

    add(
        engine,
        session("s"),
        prompt("s", 1, "first"),
        prompt("s", 10, "second"),
        usage("s", "claude-sonnet-4-5", 2, 0.001326),  # transcript-priced: replaced by Claude Code's figures
        usage("s", "claude-sonnet-4-5", 11, 0.001326),
        request(2, 0.001446),
        request(3, 0.001446),
        request(11, 0.002),
        request(4, 9.0, agent_id="a-subagent"),  # a subagent's: not the prompt's own
    )
    with Session(engine) as db:
        detail = session_detail(db, "s")
    assert detail is not None
    first, second = detail.timeline
    assert first.own_cost_usd == pytest.approx(0.002892) and second.own_cost_usd == pytest.approx(0.002)
    assert first.tokens > 0  # tokens still come from the transcript
