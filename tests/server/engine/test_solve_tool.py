"""The ``solve`` MCP tool through the in-memory MCP client, on fake models whose answers improve when refined."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.classify import classify
from server.engine.solve.models import SolveResult
from server.routing.learn_store import rebuild
from server.settings import Settings
from server.store.models import BudgetReservation, Delegation, RoutingStat, SolveNode, SolveRun, StoredOutput
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.server.engine.solve_support import Quality, refining, solve_client, solve_config

pytestmark = pytest.mark.anyio

MODELS = ["good", "weak"]
QUALITIES = {"good": Quality(0.5, 0.25), "weak": Quality(0.25, 0.05)}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=[*MODELS, "judge"], responder=refining(QUALITIES)) as server:
        yield server


@pytest.fixture(autouse=True)
def seeded() -> None:
    # TreeQuest samples through numpy's global generator: a fixed seed makes each run's choices repeatable.
    np.random.seed(7)


def solved(result: Any) -> dict[str, Any]:
    """The result's details with every field present (the client's copy may leave out nulls and defaults)."""
    return SolveResult.model_validate(result.structured_content).model_dump(mode="json")


def text_of(result: Any) -> str:
    return json.dumps([content.model_dump() for content in result.content])


async def call_solve(
    settings: Settings,
    engine: Engine,
    fake: FakeOpenAI,
    tmp_path: Path,
    arguments: dict[str, Any],
    progress: Any = None,
    **sections: Any,
) -> Any:
    config = solve_config(fake, [*MODELS, "judge"], tmp_path, **sections)
    with anyio.fail_after(30):
        async with solve_client(settings, engine, config, tmp_path) as client:
            return await client.call_tool("solve", arguments, progress_callback=progress)


def nodes(engine: Engine) -> list[SolveNode]:
    with Session(engine) as db:
        return list(db.exec(select(SolveNode).order_by(col(SolveNode.seq))).all())


async def test_refining_a_promising_answer_reaches_the_target_and_the_path_shows_the_refinements(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    heard: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        heard.append((done, total, message))

    arguments = {"task": "write the parser", "models": ["pf:good", "pf:weak"], "check": "quality", "max_calls": 20}
    result = await call_solve(settings, engine, fake, tmp_path, arguments, progress, solve={"parallel": 1})
    assert not result.is_error, text_of(result)
    data = solved(result)
    assert data["stop_reason"] == "target" and data["best_score"] == 1.0
    assert data["best_answer"] == "good: quality=1.0"
    path = data["path"]
    assert [step["action"] for step in path] == ["wider"] + ["deeper"] * (len(path) - 1) and len(path) >= 3
    scores = [step["score"] for step in path]
    assert scores == sorted(scores) and scores[-1] == 1.0 and path[-1]["model"] == "pf:good"
    assert data["calls"] == len(data["nodes"]) <= 20
    assert len(heard) == len(data["nodes"]) and heard[-1][1] == 20
    assert "best 1.00" in (heard[-1][2] or "")
    with Session(engine) as db:
        run = db.exec(select(SolveRun)).one()
        best = db.get(StoredOutput, data["output_id"])
    assert run.status == "ok" and run.best_score == 1.0 and run.stop_reason == "target"
    assert best is not None and best.content == "good: quality=1.0"
    rows = nodes(engine)
    assert rows[-1].id == run.best_node_id and rows[-1].depth == len(path) and rows[-1].action == "deeper"
    with Session(engine) as db:
        calls = db.exec(select(Delegation).where(Delegation.request_id == run.id)).all()
    assert {row.solve_node_id for row in calls} == {row.id for row in rows}


async def test_max_calls_ends_the_run_with_the_best_answer_so_far(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    flat = {"good": Quality(0.5, 0.0), "weak": Quality(0.25, 0.0)}
    with FakeOpenAI(models=MODELS, responder=refining(flat)) as fake:
        arguments = {"task": "t", "models": ["pf:good", "pf:weak"], "check": "quality", "max_calls": 4}
        result = await call_solve(settings, engine, fake, tmp_path, arguments)
        assert not result.is_error, text_of(result)
        data = solved(result)
        assert data["stop_reason"] == "max_calls" and data["calls"] == 4 and len(fake.requests) == 4
        assert data["best_score"] == 0.5 and data["best_answer"].endswith("quality=0.5")


async def test_the_cost_cap_ends_the_run_before_a_call_that_would_cross_it(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    flat = {"good": Quality(0.5, 0.0), "weak": Quality(0.25, 0.0)}
    # Each answer costs about its worst case ($4 of a $10 cap): the third call would not fit.
    with FakeOpenAI(models=MODELS, responder=refining(flat, output_tokens=4_000)) as fake:
        price = {"input_per_mtok": 1.0, "output_per_mtok": 1_000.0}
        arguments = {"task": "t", "models": ["pf:good"], "check": "quality", "max_cost_usd": 10.0}
        pf = {"prices": {"good": price, "weak": price}}
        result = await call_solve(settings, engine, fake, tmp_path, arguments, solve={"parallel": 1}, pf=pf)
        assert not result.is_error, text_of(result)
        data = solved(result)
        assert data["stop_reason"] == "cost_cap" and len(fake.requests) == 2
        assert data["best_score"] == 0.5 and data["unpriced_calls"] == 0
        assert data["total_cost_usd"] == data["cost_known_usd"] == pytest.approx(8.0, rel=0.01)
        assert [n["status"] for n in data["nodes"]] == ["ok", "ok", "skipped"]
        assert "cost cap" in (data["nodes"][2]["error"] or "")


async def test_the_deadline_ends_the_run_with_the_best_answer_and_records_the_calls_it_cut(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    answered = refining({"good": Quality(0.5, 0.25)})
    seen: list[int] = []

    def first_then_hang(body: dict[str, Any]) -> Reply | None:
        seen.append(1)
        return answered(body) if len(seen) == 1 else Reply(kind="hang")

    with FakeOpenAI(models=MODELS, responder=first_then_hang) as fake:
        arguments = {"task": "t", "models": ["pf:good"], "check": "quality", "timeout_s": 1.0}
        result = await call_solve(settings, engine, fake, tmp_path, arguments, solve={"parallel": 1})
        assert not result.is_error, text_of(result)
        data = solved(result)
        assert data["stop_reason"] == "deadline" and data["best_score"] == 0.5
        assert [n["status"] for n in data["nodes"]] == ["ok", "timeout"]
        assert fake.wait_hangups(1, timeout_s=5)
    with Session(engine) as db:
        statuses = [row.status for row in db.exec(select(Delegation).order_by(col(Delegation.id))).all()]
    assert statuses == ["ok", "timeout"]


async def test_a_failing_or_hanging_check_scores_zero_with_its_reason_and_the_search_goes_on(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    qualities = {"good": Quality(0.5, 0.25, extra=" fail"), "weak": Quality(0.25, 0.0, extra=" hang")}
    with FakeOpenAI(models=MODELS, responder=refining(qualities)) as fake:
        arguments = {"task": "t", "models": ["pf:good", "pf:weak"], "check": "quality", "max_calls": 4}
        result = await call_solve(settings, engine, fake, tmp_path, arguments, solve={"check_timeout_s": 1.0})
        assert not result.is_error, text_of(result)
        data = solved(result)
        assert data["calls"] == 4 and data["stop_reason"] == "max_calls"
        statuses = {n["status"] for n in data["nodes"]}
        assert statuses <= {"check_failed", "check_timeout"}
        assert all(n["score"] == 0.0 for n in data["nodes"])
        errors = " ".join(n["error"] or "" for n in data["nodes"])
        if "check_failed" in statuses:
            assert "FAILED test_parser" in errors
        if "check_timeout" in statuses:
            assert "timed out after 1 s" in errors
        refinements = [body for body in fake.requests if "## A previous answer" in json.dumps(body)]
        for body in refinements:
            assert "FAILED test_parser" in json.dumps(body) or "timed out" in json.dumps(body)


async def test_a_check_name_not_in_the_config_is_refused_with_the_configured_names(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    result = await call_solve(settings, engine, fake, tmp_path, {"task": "t", "check": "rm -rf /"})
    assert result.is_error
    assert "unknown check 'rm -rf /'; configured checks: quality" in text_of(result)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_calls": 0}, "max_calls 0 is too small"),
        ({"max_calls": 51}, "above the configured ceiling 50"),
        ({"models": ["pf:good", "nope:x"]}, "unknown model 'nope:x'; configured models: pf:good, pf:weak"),
        ({"judge": "pf:nobody"}, "unknown model 'pf:nobody'"),
    ],
)
async def test_bad_bounds_and_unknown_models_are_refused_before_any_call(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    result = await call_solve(settings, engine, fake, tmp_path, {"task": "t", "check": "quality", **arguments})
    assert result.is_error and message in text_of(result), text_of(result)
    assert fake.requests == []


async def test_a_judge_that_answers_garbage_leaves_its_node_unscored_with_the_reason_and_keeps_the_run(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script("judge", Reply(text="I liked it a lot"), Reply(text='{"score": 0.9, "critique": "close"}'))
    arguments = {"task": "t", "models": ["pf:good"], "judge": "pf:judge", "max_calls": 4}
    result = await call_solve(settings, engine, fake, tmp_path, arguments, solve={"parallel": 1})
    assert not result.is_error, text_of(result)
    data = solved(result)
    first, second = data["nodes"][:2]
    assert first["status"] == "judge_failed" and first["score"] is None
    assert "no JSON object" in first["error"]
    assert second["status"] == "ok" and second["score"] == 0.9
    assert data["best_score"] == 0.9 and data["calls"] == 4


async def test_client_cancellation_stops_every_call_in_flight_and_the_run_is_still_recorded(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    three_asked = threading.Event()

    def hang(_body: dict[str, Any]) -> Reply:
        if len(fake.requests) >= 3:
            three_asked.set()
        return Reply(kind="hang")

    with FakeOpenAI(models=MODELS, responder=hang) as fake:
        config = solve_config(fake, MODELS, tmp_path, solve={"parallel": 3})
        arguments = {"task": "t", "models": ["pf:good", "pf:weak"], "check": "quality"}
        with anyio.fail_after(20):
            async with solve_client(settings, engine, config, tmp_path) as client:
                async with anyio.create_task_group() as group:
                    group.start_soon(lambda: client.call_tool("solve", arguments))
                    assert await anyio.to_thread.run_sync(three_asked.wait, 5)
                    group.cancel_scope.cancel()
                assert await anyio.to_thread.run_sync(lambda: fake.wait_hangups(3, timeout_s=5)), fake.hangups
    with Session(engine) as db:
        run = db.exec(select(SolveRun)).one()
    assert run.status == "cancelled"
    assert sorted(row.status for row in nodes(engine)) == ["cancelled"] * 3


async def test_reaching_the_target_cancels_the_sibling_in_flight_and_records_it_as_cancelled(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    both_asked = threading.Event()
    arrived: list[int] = []
    lock = threading.Lock()

    def first_wins(body: dict[str, Any]) -> Reply:
        with lock:
            arrived.append(1)
            first = len(arrived) == 1
        if first:
            both_asked.wait(5)  # answer only once the sibling is in flight too
            return Reply(text="quality=1.0")
        both_asked.set()
        return Reply(kind="hang")

    with FakeOpenAI(models=MODELS, responder=first_wins) as fake:
        arguments = {"task": "t", "models": ["pf:good"], "check": "quality"}
        result = await call_solve(settings, engine, fake, tmp_path, arguments, solve={"parallel": 2})
        assert not result.is_error, text_of(result)
        assert await anyio.to_thread.run_sync(lambda: fake.wait_hangups(1, timeout_s=5))
    data = solved(result)
    assert data["stop_reason"] == "target"
    assert sorted(n["status"] for n in data["nodes"]) == ["cancelled", "ok"]


async def test_the_daily_budget_ends_the_run_as_budget_not_as_the_runs_cost_cap(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    flat = {"good": Quality(0.5, 0.0)}
    with FakeOpenAI(models=MODELS, responder=refining(flat, output_tokens=4_000)) as fake:
        price = {"input_per_mtok": 1.0, "output_per_mtok": 1_000.0}
        arguments = {"task": "t", "models": ["pf:good"], "check": "quality"}
        sections: dict[str, Any] = {"solve": {"parallel": 1}, "pf": {"prices": {"good": price}}}
        result = await call_solve(settings, engine, fake, tmp_path, arguments, budgets={"daily_usd": 6.0}, **sections)
        assert not result.is_error, text_of(result)
        data = solved(result)
        assert data["stop_reason"] == "budget" and data["best_score"] == 0.5
        assert data["nodes"][-1]["status"] == "skipped" and "budget" in data["nodes"][-1]["error"]


async def test_a_solve_runs_budget_reservation_is_labelled_solve_while_its_calls_are_in_flight(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    labels: list[str] = []
    answer = refining(QUALITIES)

    def respond(body: dict[str, Any]) -> Reply | None:
        # Read in the fake's thread while the run waits on this call: its reservation is not settled yet.
        with Session(engine) as db:
            labels.extend(row.model for row in db.exec(select(BudgetReservation)).all())
        return answer(body)

    with FakeOpenAI(models=MODELS, responder=respond) as fake:
        price = {"input_per_mtok": 1.0, "output_per_mtok": 1.0}
        arguments = {"task": "t", "models": ["pf:good"], "check": "quality", "max_calls": 2}
        sections: dict[str, Any] = {"solve": {"parallel": 1}, "pf": {"prices": {"good": price}}}
        result = await call_solve(settings, engine, fake, tmp_path, arguments, budgets={"daily_usd": 5.0}, **sections)
    assert not result.is_error, text_of(result)
    assert labels and set(labels) == {"solve"}, labels


async def test_a_configured_check_that_is_not_a_command_line_is_refused_naming_it(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    arguments = {"task": "t", "check": "broken"}
    result = await call_solve(settings, engine, fake, tmp_path, arguments, solve={"checks": {"broken": "pytest 'x"}})
    assert result.is_error and "check 'broken'" in text_of(result) and "not a command line" in text_of(result)
    assert fake.requests == []


async def test_a_long_best_answer_is_cut_to_the_output_limit_and_get_output_returns_the_rest(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    long_answer = "quality=1.0\n" + "x" * 20_000
    with FakeOpenAI(models=MODELS, responder=lambda _body: Reply(text=long_answer)) as fake:
        config = solve_config(fake, MODELS, tmp_path, output={"max_output_tokens": 2_000})
        arguments = {"task": "t", "models": ["pf:good"], "check": "quality"}
        with anyio.fail_after(30):
            async with solve_client(settings, engine, config, tmp_path) as client:
                result = await client.call_tool("solve", arguments)
                data = solved(result)
                assert data["answer_truncated"] is True and len(data["best_answer"]) < len(long_answer)
                assert f"output_id={data['output_id']!r}" in data["best_answer"]
                rest = await client.call_tool("get_output", {"output_id": data["output_id"]})
    assert rest.structured_content["content"] == long_answer


async def test_files_are_sent_with_the_task_and_a_file_outside_the_project_is_refused(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    (tmp_path / "parser.py").write_text("def parse(): ...\n", encoding="utf-8")
    arguments = {"task": "fix it", "models": ["pf:good"], "check": "quality", "files": ["parser.py"], "max_calls": 1}
    result = await call_solve(settings, engine, fake, tmp_path, arguments)
    assert not result.is_error, text_of(result)
    assert "def parse(): ..." in fake.requests[0]["messages"][-1]["content"]
    assert len(fake.requests) == 1, result.structured_content
    outside = {**arguments, "files": ["/etc/hostname"]}
    refused = await call_solve(settings, engine, fake, tmp_path, outside)
    assert refused.is_error and "outside the project root" in text_of(refused)
    assert len(fake.requests) == 1


async def test_with_a_check_and_a_judge_the_check_gates_and_the_judge_ranks(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    qualities = {"good": Quality(0.5, 0.25, extra=" fail"), "weak": Quality(1.0, 1.0)}
    with FakeOpenAI(models=[*MODELS, "judge"], responder=refining(qualities)) as fake:
        fake.script("judge", *[Reply(text='{"score": 0.6, "critique": "terse"}')] * 6)
        arguments = {"task": "t", "models": ["pf:good", "pf:weak"], "check": "quality", "judge": "pf:judge"}
        result = await call_solve(settings, engine, fake, tmp_path, {**arguments, "max_calls": 6})
        assert not result.is_error, text_of(result)
        data = solved(result)
        judged = [body for body in fake.requests if body["model"] == "judge"]
        # Only answers that pass the check reach the judge; their score is the check's times the judge's.
        passed = [n for n in data["nodes"] if n["model"] == "pf:weak"]
        failed = [n for n in data["nodes"] if n["model"] == "pf:good"]
        assert passed and len(judged) == len(passed)
        assert all(n["score"] == 0.0 and n["status"] == "check_failed" for n in failed)
        assert all(n["score"] == pytest.approx(0.6) and n["status"] == "ok" for n in passed)
        assert data["calls"] == len(data["nodes"]) + len(passed) <= 6


async def test_scored_answers_teach_the_learning_router_under_the_tasks_type_not_as_delegate_attempts(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    arguments = {"task": "fix the bug in the parser", "models": ["pf:good"], "check": "quality", "max_calls": 2}
    result = await call_solve(settings, engine, fake, tmp_path, {**arguments, "target_score": 1.0})
    assert not result.is_error, text_of(result)
    with Session(engine) as db:
        stats = {
            (row.task_type, row.model): row for row in db.exec(select(RoutingStat).where(RoutingStat.user == "")).all()
        }
    task_type = classify("fix the bug in the parser")
    assert set(stats) == {(task_type, "pf:good")}
    learned = stats[(task_type, "pf:good")]
    assert learned.calls == 0 and learned.quality_n == 2
    assert learned.quality_sum == pytest.approx(sum(node["score"] for node in solved(result)["nodes"]))
    with Session(engine) as db:
        rebuilt_from = {row.id for row in db.exec(select(Delegation)).all() if row.quality is not None}
    assert len(rebuilt_from) == 2
    assert rebuild(engine) == 1
    with Session(engine) as db:
        again = db.exec(select(RoutingStat).where(RoutingStat.user == "")).one()
    assert (again.quality_n, again.quality_sum) == (learned.quality_n, learned.quality_sum)


async def test_without_the_solve_extra_solve_answers_with_the_install_command_before_any_call(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "treequest", None)  # what `import treequest` meets when it is not installed
    result = await call_solve(settings, engine, fake, tmp_path, {"task": "t", "check": "quality"})
    assert result.is_error and "pip install 'switchboard[solve]'" in text_of(result), text_of(result)
    assert fake.requests == []
