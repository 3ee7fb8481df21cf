"""``solve``'s signals are about the answer: unscored is not 0, the judge is not a candidate, the stop reason and
the deadline say what happened. Through the in-memory MCP client, on fake models."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
from mcp import Client
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.engine import runtime as runtime_module
from server.engine.solve.models import SolveResult
from server.settings import Settings
from server.store.models import Delegation
from server.tools.app import SessionOptions, build_server
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.server.engine.solve_support import Quality, refining, solve_client, solve_config

pytestmark = pytest.mark.anyio

MODELS = ["good", "weak", "judge"]
QUALITIES = {"good": Quality(0.5, 0.25), "weak": Quality(0.25, 0.05)}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=MODELS, responder=refining(QUALITIES)) as server:
        yield server


@pytest.fixture(autouse=True)
def seeded() -> None:
    np.random.seed(7)


async def call_solve(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path, arguments: dict[str, Any], **sections: Any
) -> Any:
    config = solve_config(fake, sections.pop("models", MODELS), tmp_path, **sections)
    with anyio.fail_after(30):
        async with solve_client(settings, engine, config, tmp_path) as client:
            return await client.call_tool("solve", arguments)


def solved(result: Any) -> dict[str, Any]:
    return SolveResult.model_validate(result.structured_content).model_dump(mode="json")


def text_of(result: Any) -> str:
    return "\n".join(getattr(content, "text", "") for content in result.content)


@pytest.mark.parametrize("judge_reply", [Reply(text="I liked it a lot"), Reply.error(500)])
async def test_a_judge_that_fails_leaves_its_node_unscored_with_the_reason_never_zero(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path, judge_reply: Reply
) -> None:
    fake.script("judge", judge_reply, Reply(text='{"score": 0.9, "critique": "close"}'))
    arguments = {"task": "t", "models": ["pf:good"], "judge": "pf:judge", "max_calls": 4}
    result = await call_solve(settings, engine, fake, tmp_path, arguments, solve={"parallel": 1})
    assert not result.is_error, text_of(result)
    first, second = solved(result)["nodes"][:2]
    assert first["status"] == "judge_failed" and first["score"] is None
    assert first["error"].startswith("judge pf:judge")
    assert second["score"] == 0.9
    with Session(engine) as db:
        rows = db.exec(select(Delegation).where(Delegation.role == "solve")).all()
    assert sorted(row.quality for row in rows if row.quality is not None) == [0.9], "no quality from a failed judge"


async def test_when_every_judge_call_fails_the_answer_comes_back_unscored_and_the_text_says_why(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script("judge", Reply(text="nice"), Reply(text="nice"))
    arguments = {"task": "t", "models": ["pf:good"], "judge": "pf:judge", "max_calls": 4}
    result = await call_solve(settings, engine, fake, tmp_path, arguments, solve={"parallel": 1})
    data = solved(result)
    assert data["best_score"] is None and data["best_answer"].startswith("good: quality=")
    text = text_of(result)
    assert "no score" in text
    assert "judge pf:judge failed on 2 of 2 answers" in text and "no JSON object" in text, text


async def test_a_failing_check_is_named_as_why_the_best_score_is_low(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    failing = {"good": Quality(0.5, 0.0, extra=" fail")}
    with FakeOpenAI(models=MODELS, responder=refining(failing)) as fake:
        arguments = {"task": "t", "models": ["pf:good"], "check": "quality", "max_calls": 2}
        result = await call_solve(settings, engine, fake, tmp_path, arguments, solve={"parallel": 1})
    data = solved(result)
    assert data["best_score"] == 0.0
    assert "check quality failed on 2 of 2 answers: FAILED test_parser" in text_of(result), text_of(result)


async def test_the_default_judge_is_a_configured_model_that_is_not_a_candidate_and_the_line_says_so(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    arguments = {"task": "t", "models": ["pf:good", "pf:weak"], "max_calls": 2}
    fake.script("judge", Reply(text='{"score": 0.7, "critique": "ok"}'))
    result = await call_solve(settings, engine, fake, tmp_path, arguments)
    assert not result.is_error, text_of(result)
    assert fake.calls_for("judge") == 1
    assert "judged by pf:judge (not a candidate)" in text_of(result)
    assert solved(result)["scored_by"] == "judged by pf:judge (not a candidate)"


async def test_with_a_check_and_no_model_outside_the_candidates_the_check_scores_alone_and_the_line_says_so(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    arguments = {"task": "t", "models": ["pf:good", "pf:weak"], "check": "quality", "max_calls": 2}
    result = await call_solve(settings, engine, fake, tmp_path, arguments, models=["good", "weak"])
    assert not result.is_error, text_of(result)
    assert "scored by check quality alone" in text_of(result)
    assert fake.calls_for("judge") == 0


async def test_with_neither_a_check_nor_a_model_outside_the_candidates_solve_is_refused_before_any_call(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    arguments = {"task": "t", "models": ["pf:good", "pf:weak"], "max_calls": 2}
    result = await call_solve(settings, engine, fake, tmp_path, arguments, models=["good", "weak"])
    assert result.is_error
    assert "no configured model outside the candidates" in text_of(result)
    assert fake.requests == []


async def test_only_the_models_that_answered_get_a_quality_signal_never_the_judge(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script("judge", *[Reply(text='{"score": 0.6, "critique": "ok"}')] * 4)
    arguments = {"task": "t", "models": ["pf:good", "pf:weak"], "judge": "pf:judge", "max_calls": 4}
    result = await call_solve(settings, engine, fake, tmp_path, arguments, solve={"parallel": 1})
    assert not result.is_error, text_of(result)
    with Session(engine) as db:
        rows = db.exec(select(Delegation)).all()
    assert {row.model for row in rows if row.quality is not None} <= {"good", "weak"}
    assert all(row.quality is None for row in rows if row.role == "solve_judge")
    assert {(row.role, row.task_type) for row in rows} == {("solve", None), ("solve_judge", None)}


async def test_stopped_max_calls_only_when_max_calls_calls_were_made(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    # Two calls a node (answer, judge): after two nodes one call is left, too few for a third node.
    fake.script("judge", *[Reply(text='{"score": 0.5, "critique": "ok"}')] * 4)
    arguments = {"task": "t", "models": ["pf:good"], "judge": "pf:judge", "max_calls": 5}
    result = await call_solve(settings, engine, fake, tmp_path, arguments, solve={"parallel": 1})
    data = solved(result)
    assert data["calls"] == 4
    assert data["stop_reason"] != "max_calls"
    assert "stopped: max_calls" not in text_of(result)


async def test_nodes_that_skip_their_judge_give_their_calls_back_to_the_search(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    # The check fails every answer, so no judge is asked: each node uses one call of the two it reserved. Before,
    # the search stopped at "max_calls" after 4 calls of 6 (three nodes in flight had reserved all six).
    failing = {"good": Quality(0.5, 0.0, extra=" fail"), "weak": Quality(0.5, 0.0, extra=" fail")}
    with FakeOpenAI(models=MODELS, responder=refining(failing)) as fake:
        arguments = {"task": "t", "models": ["pf:good", "pf:weak"], "check": "quality", "judge": "pf:judge"}
        result = await call_solve(settings, engine, fake, tmp_path, {**arguments, "max_calls": 6})
    data = solved(result)
    assert (data["stop_reason"], data["calls"]) == ("too_few_calls_left", 5)
    assert "stopped: too_few_calls_left" in text_of(result)


async def test_solve_takes_the_clients_deadline_before_its_warm_up(
    settings: Settings, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Measured before: with MCP_TOOL_TIMEOUT=4000 and hanging models solve answered after 4.76 s, 5.89 s with a
    # slow warm-up; Claude Code had given up at 4 s.
    real_import = runtime_module.import_heavy_modules

    def slow_import() -> None:
        time.sleep(1.0)
        real_import()

    monkeypatch.setattr(runtime_module, "import_heavy_modules", slow_import)
    answered = refining({"good": Quality(0.5, 0.25)})
    seen: list[int] = []

    def first_then_hang(body: dict[str, Any]) -> Reply | None:
        seen.append(1)
        return answered(body) if len(seen) == 1 else Reply(kind="hang")

    with FakeOpenAI(models=MODELS, responder=first_then_hang) as fake:
        config = solve_config(fake, MODELS, tmp_path, solve={"parallel": 1})
        app = build_server(
            settings, config, SessionOptions(store=engine, environ={"MCP_TOOL_TIMEOUT": "4000"}, roots=[tmp_path])
        )
        arguments = {"task": "t", "models": ["pf:good"], "check": "quality", "timeout_s": 60}
        with anyio.fail_after(20):
            async with Client(app) as client:
                started = time.perf_counter()
                result = await client.call_tool("solve", arguments)
                waited_s = time.perf_counter() - started
    assert waited_s < 4.0, waited_s
    assert not result.is_error, text_of(result)
    data = solved(result)
    assert data["best_score"] == 0.5 and data["stop_reason"] == "deadline"
    # The hanging call was cut by the client's tool timeout: recorded as such, not as the model's timeout.
    assert [n["status"] for n in data["nodes"]][-1] == "deadline"
