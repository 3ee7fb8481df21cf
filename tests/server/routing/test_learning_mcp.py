"""Learned routing through the real MCP server, with fake providers on loopback."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.config import SwitchboardConfig
from server.engine.runtime import Runtime
from server.routing.learn import Learner
from server.settings import Settings
from server.store.models import Delegation, Feedback, RoutingStat
from server.tools.app import SessionOptions, build_server
from tests.fakes.openai_api import FakeOpenAI, Reply

pytestmark = pytest.mark.anyio

FLAKY, OK = "flaky:flaky70-a", "okp:ok-b"


@pytest.fixture
def flaky() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["flaky70-a"]) as server:
        yield server


@pytest.fixture
def steady() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["ok-b"]) as server:
        yield server


def config_for(flaky: FakeOpenAI, steady: FakeOpenAI, **routing: Any) -> SwitchboardConfig:
    listed = [FLAKY, OK]
    return SwitchboardConfig.model_validate(
        {
            "providers": {
                "flaky": {"base_url": flaky.base_url, "api_key_env": "K", "models": ["flaky70-a"]},
                "okp": {"base_url": steady.base_url, "api_key_env": "K", "models": ["ok-b"]},
            },
            # Latency weight 0: loopback timings are noise, and with a seeded draw the runs repeat exactly.
            "routing": {"task_types": {"code_fix": listed, "ui": listed}, "learn": {"latency": 0}, **routing},
            # The breaker would hide the flaky model on its own; these tests measure what learning does.
            "resilience": {"breaker_failures": 1_000},
        }
    )


SEED = 7


def server_for(
    settings: Settings,
    engine: Engine,
    config: SwitchboardConfig,
    tmp_path: Path,
    seed: int = SEED,
    made: list[Runtime] | None = None,
) -> Any:
    def seeded(runtime: Runtime) -> None:
        runtime.learner = Learner(config.routing.learn, rng=random.Random(seed))
        if made is not None:
            made.append(runtime)

    environ = {"K": "k", "CLAUDE_CODE_SESSION_ID": "sess-1"}
    return build_server(
        settings,
        config,
        SessionOptions(store=engine, environ=environ, roots=[tmp_path], ingest=False, on_runtime=seeded),
    )


def fail_70_percent(fake: FakeOpenAI, calls: int) -> None:
    fake.script("flaky70-a", *[Reply.error(500) if i % 10 < 7 else Reply() for i in range(calls)])


async def delegate(client: Client, task_type: str = "code_fix", **args: Any) -> dict[str, Any]:
    result = await client.call_tool("delegate", {"task": "fix it", "task_type": task_type, **args})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def first_attempts(engine: Engine, task_type: str) -> list[str]:
    with Session(engine) as db:
        statement = select(Delegation).where(col(Delegation.attempt) == 0, col(Delegation.task_type) == task_type)
        return [f"{r.provider}:{r.model}" for r in db.exec(statement.order_by(col(Delegation.id))).all()]


async def test_a_model_failing_70_percent_listed_first_loses_first_place_within_50_calls(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    fail_70_percent(flaky, 50)
    server = server_for(settings, engine, config_for(flaky, steady), tmp_path)
    with anyio.fail_after(60):
        async with Client(server) as client:
            results = [await delegate(client) for _ in range(50)]
    firsts = first_attempts(engine, "code_fix")
    assert firsts[0] == FLAKY  # no evidence: the list as written
    assert firsts[-20:].count(OK) >= 16, firsts
    last = results[-1]["decision"]
    assert last["candidates"][0] == OK
    assert last["learning"].startswith(f"{OK} before {FLAKY}: success 1.00 vs 0.")
    assert last["learning"].endswith(f"configured order {FLAKY}, {OK}")


async def test_learn_false_keeps_the_written_order_exactly(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    fail_70_percent(flaky, 20)
    server = server_for(settings, engine, config_for(flaky, steady, learn=False), tmp_path)
    with anyio.fail_after(60):
        async with Client(server) as client:
            results = [await delegate(client) for _ in range(20)]
    assert first_attempts(engine, "code_fix") == [FLAKY] * 20
    assert "learning off" in results[-1]["decision"]["learning"]


async def test_an_explicit_model_goes_first_whatever_was_learned(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    fail_70_percent(flaky, 30)
    server = server_for(settings, engine, config_for(flaky, steady), tmp_path)
    with anyio.fail_after(60):
        async with Client(server) as client:
            for _ in range(20):
                await delegate(client)
            explicit = [await delegate(client, model=FLAKY) for _ in range(5)]
    assert [r["decision"]["candidates"][0] for r in explicit] == [FLAKY] * 5


async def test_what_is_learned_survives_a_server_restart(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    fail_70_percent(flaky, 40)
    config = config_for(flaky, steady)
    with anyio.fail_after(60):
        async with Client(server_for(settings, engine, config, tmp_path)) as client:
            for _ in range(30):
                await delegate(client)
        before = len(flaky.requests)
        # A new server process on the same store, with another seed: it starts from what the first one learned.
        async with Client(server_for(settings, engine, config, tmp_path, seed=99)) as client:
            after = [await delegate(client) for _ in range(10)]
    assert sum(r["decision"]["candidates"][0] == OK for r in after) >= 8
    assert f"{OK} before {FLAKY}" in after[0]["decision"]["learning"]
    assert len(flaky.requests) - before <= 3


def routing_stats(engine: Engine, task_type: str) -> list[tuple[Any, ...]]:
    with Session(engine) as db:
        rows = db.exec(
            select(RoutingStat).where(col(RoutingStat.task_type) == task_type, col(RoutingStat.user) == "")
        ).all()
        return sorted((r.model, r.calls, r.successes, r.quality_n, r.quality_sum, r.last_at) for r in rows)


async def test_bad_feedback_on_one_model_for_one_task_type_moves_that_task_type_only(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    # Both models always answer here: only feedback separates them.
    runtimes: list[Runtime] = []
    config = config_for(flaky, steady)
    server = server_for(settings, engine, config, tmp_path, made=runtimes)
    with anyio.fail_after(90):
        async with Client(server) as client:
            answered = {t: [await delegate(client, t) for _ in range(10)] for t in ("code_fix", "ui")}
            learner = runtimes[0].learner
            await runtimes[0].recorder.settled()
            ui_before = routing_stats(engine, "ui"), learner.expected_order("ui", [FLAKY, OK])
            for result in answered["code_fix"]:
                if result["model"] == FLAKY:
                    verdict = await client.call_tool("feedback", {"request_id": result["request_id"], "good": False})
                    assert not verdict.is_error, verdict.content
            assert learner.expected_order("code_fix", [FLAKY, OK]) == [OK, FLAKY]
            await runtimes[0].recorder.settled()
            assert (routing_stats(engine, "ui"), learner.expected_order("ui", [FLAKY, OK])) == ui_before
            after = [(await delegate(client, "code_fix"))["decision"] for _ in range(20)]
    assert [d["candidates"][0] for d in after].count(OK) >= 16, after
    assert any(d["learning"].startswith(f"{OK} before {FLAKY}: quality ") for d in after)
    with Session(engine) as db:
        stat = db.exec(
            select(RoutingStat).where(
                col(RoutingStat.task_type) == "code_fix", col(RoutingStat.model) == FLAKY, col(RoutingStat.user) == ""
            )
        ).one()
    assert stat.quality_n >= 5 and stat.quality_sum == 0


async def test_feedback_twice_keeps_the_last_and_says_so_and_counts_once(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    server = server_for(settings, engine, config_for(flaky, steady), tmp_path)
    with anyio.fail_after(30):
        async with Client(server) as client:
            request_id = (await delegate(client))["request_id"]
            first = await client.call_tool("feedback", {"request_id": request_id, "good": False, "note": "wrong"})
            second = await client.call_tool("feedback", {"request_id": request_id, "good": True})
    assert first.structured_content is not None and not first.structured_content["replaced"]
    assert second.structured_content is not None and second.structured_content["replaced"]
    assert "replaces the earlier feedback on this request (bad)" in second.structured_content["message"]
    with Session(engine) as db:
        [row] = db.exec(select(Feedback)).all()
        stat = db.exec(select(RoutingStat).where(col(RoutingStat.model) == FLAKY, col(RoutingStat.user) == "")).one()
    assert (row.good, row.model, row.task_type, row.session_id) == (True, FLAKY, "code_fix", "sess-1")
    assert (stat.quality_n, stat.quality_sum) == (1, 1.0)


async def test_feedback_on_an_unknown_or_another_sessions_request_is_a_clear_error(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    config = config_for(flaky, steady)
    with anyio.fail_after(30):
        async with Client(server_for(settings, engine, config, tmp_path)) as client:
            request_id = (await delegate(client))["request_id"]
            unknown = await client.call_tool("feedback", {"request_id": "nope", "good": True})
        other = build_server(
            settings,
            config,
            SessionOptions(store=engine, environ={"K": "k", "CLAUDE_CODE_SESSION_ID": "sess-2"}, ingest=False),
        )
        async with Client(other) as client:
            foreign = await client.call_tool("feedback", {"request_id": request_id, "good": True})
    assert unknown.is_error and "unknown request_id 'nope'" in str(unknown.content[0])
    assert foreign.is_error and "another session" in str(foreign.content[0])
    with Session(engine) as db:
        assert db.exec(select(Feedback)).all() == []


async def test_stats_routing_shows_the_learned_order_overrides_and_what_the_written_order_would_have_done(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    fail_70_percent(flaky, 40)
    config = config_for(flaky, steady)
    with anyio.fail_after(60):
        async with Client(server_for(settings, engine, config, tmp_path)) as client:
            for _ in range(40):
                await delegate(client)
            shown = await client.call_tool("stats", {"section": "routing"})
    text = str(shown.content[0])
    with Session(engine) as db:
        firsts = db.exec(select(Delegation).where(col(Delegation.attempt) == 0)).all()
    overridden = sum(row.learned_over == FLAKY for row in firsts)
    failed = sum(row.status != "ok" for row in firsts)
    assert overridden >= 20
    assert f"code_fix: learned order {OK}, {FLAKY} (written {FLAKY}, {OK})" in text, text
    assert f"learning overrode the written first {overridden} of 40 calls" in text
    # In the written order the overridden calls would have gone to the flaky model first (~70% failing).
    from server.analytics.routing import routing_learning
    from server.analytics.window import Window

    with Session(engine) as db:
        [learned] = routing_learning(db, Window(), config.routing).task_types
    assert learned.failed_first == failed
    assert learned.written_failed_first > failed + overridden * 0.5


async def test_the_breaker_still_skips_an_open_provider_with_learning_on(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    flaky.script("flaky70-a", Reply.error(500), Reply.error(500))
    config = config_for(flaky, steady).model_copy(deep=True)
    config.resilience.breaker_failures = 2
    with anyio.fail_after(60):
        async with Client(server_for(settings, engine, config, tmp_path)) as client:
            results = [await delegate(client, model=FLAKY) for _ in range(3)]
    assert results[0]["decision"]["attempts"][0]["status"] == "server_error"
    last = results[-1]["decision"]
    assert last["candidates"] == [OK]
    assert any("circuit open" in s["reason"] for s in last["skipped"])
    assert flaky.calls_for("flaky70-a") == 2


async def test_a_store_that_cannot_be_read_costs_learning_not_the_answer(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("DROP TABLE routing_stat"))
    with anyio.fail_after(30):
        async with Client(server_for(settings, engine, config_for(flaky, steady), tmp_path)) as client:
            result = await delegate(client)
    assert result["model"] == FLAKY and result["answer"] == "echo: fix it"
    assert "no evidence yet" in result["decision"]["learning"]


async def test_the_providers_tool_shows_the_learned_order_delegate_tries_next_and_why(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    # Before: `providers` said "tried as written" (flaky first) while delegate tried ok-b first.
    fail_70_percent(flaky, 31)
    server = server_for(settings, engine, config_for(flaky, steady), tmp_path)
    with anyio.fail_after(60):
        async with Client(server) as client:
            for _ in range(30):
                await delegate(client)
            listed = await client.call_tool("providers", {})
            after = await delegate(client)
    assert listed.structured_content is not None
    route = listed.structured_content["routes"]["code_fix"]
    assert route["models"] == [OK, FLAKY] and route["written"] == [FLAKY, OK]
    assert after["decision"]["attempts"][0]["model"] == OK
    assert f"{OK} before {FLAKY}: success 1.00 vs 0." in route["why"]
    text = listed.content[0].text  # pyright: ignore[reportAttributeAccessIssue]
    assert f"code_fix: {OK}, {FLAKY};" in text and "tried as written" not in text.split("code_fix:")[1].split("\n")[0]


async def test_feedback_takes_the_short_id_a_delegate_text_line_ends_with(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    server = server_for(settings, engine, config_for(flaky, steady), tmp_path)
    with anyio.fail_after(30):
        async with Client(server) as client:
            result = await client.call_tool("delegate", {"task": "fix it", "task_type": "code_fix"})
            text = str(result.content[0].text)  # type: ignore[union-attr]
            assert result.structured_content is not None
            request_id = result.structured_content["request_id"]
            short = text.rsplit(" · id ", 1)[1].rstrip("]")
            assert short == request_id[:8] and text.endswith(f" · id {short}]")
            verdict = await client.call_tool("feedback", {"request_id": short, "good": True})
            prefix = await client.call_tool("feedback", {"request_id": request_id[:6], "good": False})
    assert not verdict.is_error and verdict.structured_content is not None
    assert verdict.structured_content["request_id"] == request_id
    assert not prefix.is_error and prefix.structured_content is not None and prefix.structured_content["replaced"]


async def test_a_prefix_shared_by_two_requests_asks_for_more_of_the_id(
    settings: Settings, engine: Engine, flaky: FakeOpenAI, steady: FakeOpenAI, tmp_path: Path
) -> None:
    with Session(engine) as db:
        for request_id in ("abcd1111", "abcd2222"):
            db.add(Delegation(request_id=request_id, provider="p", model="m", status="ok", session_id="sess-1"))
        db.commit()
    server = server_for(settings, engine, config_for(flaky, steady), tmp_path)
    with anyio.fail_after(30):
        async with Client(server) as client:
            both = await client.call_tool("feedback", {"request_id": "abcd", "good": True})
            one = await client.call_tool("feedback", {"request_id": "abcd2", "good": True})
    assert both.is_error and "is the start of several requests' ids: give more of it" in str(both.content[0])
    assert not one.is_error and one.structured_content is not None
    assert one.structured_content["request_id"] == "abcd2222"
