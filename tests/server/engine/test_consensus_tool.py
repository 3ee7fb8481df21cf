"""The ``consensus`` MCP tool through the in-memory MCP client: progress, structured output, member choice."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from sqlalchemy import Engine

from server.config import OutputConfig, SwitchboardConfig
from server.engine import runtime as runtime_module
from server.engine.runtime import Runtime
from server.settings import Settings
from server.tools.app import SessionOptions, build_server
from server.tools.consensus import choose_members
from tests.fakes.openai_api import FakeOpenAI, Reply

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["a1", "a2", "b1", "c1"]) as server:
        yield server


def config_for(fake: FakeOpenAI) -> SwitchboardConfig:
    def provider(models: list[str]) -> dict[str, Any]:
        return {"kind": "openai-compatible", "base_url": fake.base_url, "models": models}

    providers = {"pa": provider(["a1", "a2"]), "pb": provider(["b1"]), "pc": provider(["c1"])}
    routing = {"default": ["pa:a1", "pa:a2", "pb:b1", "pc:c1"]}
    return SwitchboardConfig.model_validate({"providers": providers, "routing": routing})


async def call(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path, arguments: dict[str, Any], progress: Any
) -> Any:
    server = build_server(
        settings, config_for(fake), SessionOptions(store=engine, environ={}, roots=[tmp_path], ingest=False)
    )
    with anyio.fail_after(20):
        async with Client(server) as client:
            return await client.call_tool("consensus", arguments, progress_callback=progress)


async def test_the_client_hears_progress_as_each_member_and_the_judge_finish(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script("a1", Reply(text="Final answer: 42"))
    fake.script("b1", Reply(text="Final answer: 42"))
    fake.script("c1", Reply(text="Final answer: 41"))
    verdict = {"answers": [{"label": "A", "scores": {"correctness": 9}}], "winner": "A"}
    fake.script("a2", Reply(text=json.dumps(verdict)))
    heard: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        heard.append((done, total, message))

    arguments = {"question": "6 x 7?", "models": ["pa:a1", "pb:b1", "pc:c1"], "judge": "pa:a2"}
    result = await call(settings, engine, fake, tmp_path, arguments, progress)
    assert not result.is_error, result.content
    assert [(done, total) for done, total, _ in heard] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    messages = [message or "" for _, _, message in heard]
    assert [m.split(": ")[0] for m in sorted(messages[:3])] == ["pa:a1", "pb:b1", "pc:c1"]
    assert [m.split(" (")[1] for m in messages[:3]] == ["1/3 members)", "2/3 members)", "3/3 members)"]
    assert messages[3] == "judge pa:a2: ok"
    data = result.structured_content
    assert data is not None
    assert data["strategy"] == "judge" and data["status"] == "ok"
    assert [m["model"] for m in data["members"]] == ["pa:a1", "pb:b1", "pc:c1"]
    assert data["judge"]["model"] == "pa:a2"


async def test_stances_reach_each_members_system_prompt(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    arguments = {
        "question": "Adopt PostgreSQL?",
        "models": ["pb:b1", "pc:c1"],
        "stances": ["for", "against"],
        "strategy": "vote",
    }
    result = await call(settings, engine, fake, tmp_path, arguments, None)
    assert not result.is_error, result.content
    system = {body["model"]: body["messages"][0]["content"] for body in fake.requests}
    assert "argue FOR" in system["b1"] and "argue AGAINST" in system["c1"]
    assert [m["stance"] for m in result.structured_content["members"]] == ["for", "against"]


async def test_stances_that_do_not_match_the_members_are_refused_before_any_call(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    arguments = {"question": "q", "models": ["pb:b1", "pc:c1"], "stances": ["for"]}
    result = await call(settings, engine, fake, tmp_path, arguments, None)
    assert result.is_error
    assert "one per member" in json.dumps([c.model_dump() for c in result.content])
    assert fake.requests == []


async def test_the_router_seats_members_from_different_providers_before_a_second_of_one(
    settings: Settings, engine: Engine, fake: FakeOpenAI
) -> None:
    runtime = Runtime.create(settings, config_for(fake), engine, environ={})
    try:
        assert choose_members(runtime, "a question", 3) == (["pa:a1", "pb:b1", "pc:c1"], "pa:a2")
        assert choose_members(runtime, "a question", 4) == (["pa:a1", "pb:b1", "pc:c1", "pa:a2"], "pa:a1")
    finally:
        await runtime.aclose()


async def test_a_run_shows_in_stats_as_one_consensus_run_over_its_member_calls(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    server = build_server(
        settings, config_for(fake), SessionOptions(store=engine, environ={}, roots=[tmp_path], ingest=False)
    )
    arguments = {"question": "6 x 7?", "models": ["pb:b1", "pc:c1"], "strategy": "vote"}
    with anyio.fail_after(20):
        async with Client(server) as client:
            ran = await client.call_tool("consensus", arguments)
            shown = await client.call_tool("stats", {"section": "delegations"})
    assert not ran.is_error and not shown.is_error, (ran.content, shown.content)
    text = "\n".join(getattr(block, "text", "") for block in shown.content)
    assert "Consensus vote: 1 runs, 1 ok, agreement 100" in text, text


async def test_a_cut_final_answer_is_read_back_whole_with_get_output(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    config = config_for(fake).model_copy(update={"output": OutputConfig(max_output_tokens=2_000)})
    long_answer = "Final answer: 42. " + "Because " * 2_000
    fake.script("b1", Reply(text=long_answer))
    fake.script("c1", Reply(text=long_answer))
    server = build_server(settings, config, SessionOptions(store=engine, environ={}, roots=[tmp_path], ingest=False))
    arguments = {"question": "6 x 7?", "models": ["pb:b1", "pc:c1"], "strategy": "fastest"}
    with anyio.fail_after(20):
        async with Client(server) as client:
            ran = await client.call_tool("consensus", arguments)
            data = ran.structured_content
            assert data is not None and data["final_truncated"]
            read = await client.call_tool("get_output", {"output_id": data["final_output_id"]})
    assert read.structured_content is not None
    assert read.structured_content["content"] == long_answer


def priced_config(fake: FakeOpenAI, **sections: Any) -> SwitchboardConfig:
    data = config_for(fake).model_dump(exclude={"source"})
    for name in ("pa", "pb", "pc"):
        models = data["providers"][name]["models"]
        data["providers"][name]["prices"] = {m: {"input_per_mtok": 100.0, "output_per_mtok": 100.0} for m in models}
    data.update(sections)
    return SwitchboardConfig.model_validate(data)


async def test_a_run_whose_every_member_the_daily_budget_refuses_is_an_error_saying_so(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    config = priced_config(fake, budgets={"daily_usd": 0.0001})
    server = build_server(settings, config, SessionOptions(store=engine, environ={}, roots=[tmp_path], ingest=False))
    with anyio.fail_after(20):
        async with Client(server) as client:
            result = await client.call_tool("consensus", {"question": "6 x 7?", "models": ["pb:b1", "pc:c1"]})
    assert result.is_error
    text = "".join(getattr(block, "text", "") for block in result.content)
    assert "every member was refused before any spend" in text
    assert "pb:b1:" in text and "pc:c1:" in text
    assert fake.requests == []


async def test_fewer_members_than_asked_comes_with_a_note(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    for model in ("a1", "b1", "c1", "a2"):
        fake.script(model, Reply(text="Final answer: 42"))
    result = await call(settings, engine, fake, tmp_path, {"question": "6 x 7?", "n": 6, "strategy": "vote"}, None)
    assert not result.is_error, result.content
    data = result.structured_content
    assert len(data["members"]) == 4
    assert data["notes"][0].startswith("asked for 6 members, only 4 configured model(s) could sit")
    assert "[note: asked for 6 members" in result.content[0].text


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"models": ["pb:b1"] * 40}, "at most 10"),
        ({"models": ["pb:b1", "pc:c1", "pa:a1"], "n": 2}, "n is 2"),
        ({"stances": ["for"] * 11}, "at most 10"),
        ({"n": 11}, "less than or equal to 10"),
    ],
)
async def test_more_members_than_n_allows_are_refused_before_any_call(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path, arguments: dict[str, Any], reason: str
) -> None:
    result = await call(settings, engine, fake, tmp_path, {"question": "q", **arguments}, None)
    assert result.is_error
    assert reason in json.dumps([c.model_dump() for c in result.content])
    assert fake.requests == []


async def test_the_wait_for_the_warm_up_counts_against_the_clients_tool_timeout(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under load the first call waited ~1 s for the warm-up imports, and the run's own 0.9 x MCP_TOOL_TIMEOUT
    # started only after it: Claude Code's timeout fired first. A slow import stands in for that load here.
    real_import = runtime_module.import_heavy_modules

    def slow_import() -> None:
        time.sleep(1.0)
        real_import()

    monkeypatch.setattr(runtime_module, "import_heavy_modules", slow_import)
    fake.script("a1", Reply(text="Final answer: 42"))
    fake.script("b1", Reply(text="Final answer: 42"))
    fake.script("c1", Reply(kind="hang"))
    fake.script("a2", Reply(kind="hang"))
    environ = {"MCP_TOOL_TIMEOUT": "4000"}
    app = build_server(
        settings, config_for(fake), SessionOptions(store=engine, environ=environ, roots=[tmp_path], ingest=False)
    )
    arguments = {"question": "6 x 7?", "models": ["pa:a1", "pb:b1", "pc:c1"], "judge": "pa:a2", "timeout_s": 60}
    with anyio.fail_after(20):
        async with Client(app) as client:
            started = time.perf_counter()
            result = await client.call_tool("consensus", arguments)
            waited_s = time.perf_counter() - started
    assert waited_s < 4.0
    assert not result.is_error, result.content
    data = result.structured_content
    assert data is not None and data["final_answer"] == "Final answer: 42"
    assert [m["status"] for m in data["members"]] == ["ok", "ok", "deadline"]
    assert data["judge"]["status"] == "deadline"
