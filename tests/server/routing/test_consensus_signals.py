"""Consensus feeds learned routing: agreeing with the vote, and the judge's scores, become quality signals
for the question's task type."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.classify import classify
from server.engine.runtime import Runtime
from server.settings import Settings
from server.store.models import RoutingStat
from tests.fakes.openai_api import FakeOpenAI
from tests.server.engine.test_consensus import MODELS, config_for, consensus, delegations, ok, seats

pytestmark = pytest.mark.anyio


@pytest.fixture
def members() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=MODELS) as server:
        yield server


@pytest.fixture
async def runtime(settings: Settings, engine: Engine, members: FakeOpenAI) -> AsyncIterator[Runtime]:
    made = Runtime.create(settings, config_for(members), engine, environ={"CLAUDE_CODE_SESSION_ID": "sess-c"})
    yield made
    await made.aclose()


def quality(engine: Engine) -> dict[tuple[str, str], tuple[int, float]]:
    with Session(engine) as db:
        return {
            (s.task_type, s.model): (s.quality_n, s.quality_sum)
            for s in db.exec(select(RoutingStat).where(RoutingStat.user == "")).all()
        }


async def test_members_agreeing_with_the_vote_score_1_the_dissenter_0_under_the_questions_task_type(
    runtime: Runtime, engine: Engine, members: FakeOpenAI
) -> None:
    members.script("m1", ok("Final answer: 42", delay_s=0.3))
    members.script("m2", ok("Final answer: **42**.", delay_s=0.3))
    members.script("m3", ok("Final answer: 41"))
    result = await consensus(runtime, seats("m1", "m2", "m3"), strategy="vote")
    rows = delegations(engine, result.run_id)
    assert [rows[m].quality for m in ("m1", "m2", "m3")] == [1.0, 1.0, 0.0]
    task_type = classify("What is 6 x 7?")
    assert quality(engine) == {
        (task_type, "p1:m1"): (1, 1.0),
        (task_type, "p2:m2"): (1, 1.0),
        (task_type, "p3:m3"): (1, 0.0),
    }


async def test_the_judges_scores_become_quality_and_the_judge_itself_gets_none(
    runtime: Runtime, engine: Engine, members: FakeOpenAI
) -> None:
    from tests.server.engine.test_consensus import _judge_reply  # pyright: ignore[reportPrivateUsage]

    members.script("m1", ok("Final answer: 42"))
    members.script("m2", ok("Final answer: 41"))
    members.script("judge", ok(_judge_reply("A")))
    result = await consensus(runtime, seats("m1", "m2"), strategy="judge", judge="pj:judge")
    rows = delegations(engine, result.run_id)
    assert rows["m1"].quality == pytest.approx(0.8) and rows["m2"].quality == pytest.approx(0.8)
    assert rows["judge"].quality is None
    assert all(model != "pj:judge" for _task, model in quality(engine))
