"""The strategy registry: a new consensus strategy is one class, and the tool offers what is registered."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import anyio
import pytest
from mcp import Client
from sqlalchemy import Engine
from sqlmodel import select

from server.engine.consensus.members import MemberOutcome, ShouldStop
from server.engine.consensus.registry import STRATEGIES, ConsensusStrategy, Decision, RunContext, strategy
from server.engine.consensus.run import ConsensusSpec, run_consensus
from server.engine.consensus.strategies import Cheapest, Fastest, Judge, Vote
from server.engine.runtime import Runtime
from server.settings import Settings
from server.store.models import ConsensusRun
from server.tools.app import SessionOptions, build_server
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.server.engine.test_consensus import config_for, seats
from tests.server.recorded import recorded

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["m1", "m2", "m3", "m4", "m5", "judge"]) as server:
        yield server


@pytest.fixture
def longest() -> Iterator[type[ConsensusStrategy]]:
    @strategy
    class Longest(ConsensusStrategy):
        """A toy: everyone is heard, the longest answer wins."""

        name = "longest"
        summary = "longest: the longest answer wins"

        def stop_rule(self, members: int) -> ShouldStop:
            return lambda _outcomes: False

        async def decide(
            self, outcomes: Sequence[MemberOutcome], labels: Sequence[str], finish_order: Sequence[int], run: RunContext
        ) -> Decision:
            best = max(range(len(outcomes)), key=lambda i: len(outcomes[i].text or ""))
            return Decision(final=outcomes[best].text, chosen=best)

    yield Longest
    del STRATEGIES["longest"]


def test_the_four_strategies_are_registered_one_class_each() -> None:
    assert {name: type(s) for name, s in STRATEGIES.items()} == {
        "fastest": Fastest,
        "vote": Vote,
        "judge": Judge,
        "cheapest": Cheapest,
    }


async def test_a_registered_class_is_a_strategy_the_run_uses_and_records_with_no_other_edit(
    settings: Settings, engine: Engine, fake: FakeOpenAI, longest: type[ConsensusStrategy]
) -> None:
    fake.script("m1", Reply(text="short"))
    fake.script("m2", Reply(text="the longest answer of all"))
    fake.script("m3", Reply(text="medium one"))
    runtime = Runtime.create(settings, config_for(fake), engine, environ={})
    try:
        with anyio.fail_after(20):
            result = await run_consensus(runtime, ConsensusSpec("q", seats("m1", "m2", "m3"), strategy="longest"))
    finally:
        await runtime.aclose()
    assert (result.final_answer, result.chosen, result.strategy) == ("the longest answer of all", "p2:m2", "longest")
    assert [m.status for m in result.members] == ["ok", "ok", "ok"]
    with recorded(engine) as db:
        assert db.exec(select(ConsensusRun.strategy)).all() == ["longest"]


async def test_the_tool_refuses_an_unregistered_strategy_and_lists_the_registered_ones(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    server = build_server(
        settings, config_for(fake), SessionOptions(store=engine, environ={}, roots=[tmp_path], ingest=False)
    )
    with anyio.fail_after(20):
        async with Client(server) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            result = await client.call_tool("consensus", {"question": "q", "strategy": "loudest"})
    schema = tools["consensus"].input_schema["properties"]["strategy"]
    assert schema["enum"] == ["fastest", "vote", "judge", "cheapest"]
    assert schema["description"] == "; ".join(s.summary for s in STRATEGIES.values()) + "."
    assert result.is_error and "strategy must be one of 'fastest', 'vote', 'judge', 'cheapest'; got 'loudest'" in str(
        result.content
    )
    assert fake.requests == []
