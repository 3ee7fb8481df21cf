from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp import Client
from pydantic import FileUrl
from sqlalchemy import Engine
from sqlmodel import col, select

from server.config import ProviderConfig, SwitchboardConfig
from server.engine import runtime as runtime_module
from server.engine.runtime import Runtime
from server.settings import Settings
from server.store.models import Delegation, ProviderEvent, StoredOutput
from server.tools.app import SessionOptions, build_server
from tests.fakes.anthropic_messages import FakeMessages
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.server.recorded import recorded

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["model-a", "model-b"], api_key="sk-test-acme") as server:
        yield server


def acme_config(fake: FakeOpenAI, **sections: Any) -> SwitchboardConfig:
    return SwitchboardConfig.model_validate(
        {
            "providers": {
                "acme": {
                    "kind": "openai-compatible",
                    "base_url": fake.base_url,
                    "api_key_env": "ACME_KEY",
                    "models": ["model-a", "model-b"],
                    "prices": {"model-a": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}},
                }
            },
            # Written order: these tests are about the MCP surface; tests/server/routing covers learning.
            "routing": {"default": ["acme:model-a", "acme:model-b"], "learn": False},
            **sections,
        }
    )


def server_for(settings: Settings, engine: Engine, config: SwitchboardConfig, tmp_path: Path) -> Any:
    environ = {"ACME_KEY": "sk-test-acme", "CLAUDE_CODE_SESSION_ID": "sess-1"}
    return build_server(settings, config, SessionOptions(store=engine, environ=environ, roots=[tmp_path], ingest=False))


def rows(engine: Engine) -> list[Delegation]:
    with recorded(engine) as db:
        return list(db.exec(select(Delegation).order_by(col(Delegation.id))).all())


async def test_delegate_answers_through_the_mcp_client_and_records_a_priced_row(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    server = server_for(settings, engine, acme_config(fake), tmp_path)
    with anyio.fail_after(20):
        async with Client(server) as client:
            result = await client.call_tool("delegate", {"task": "say hello"})
    assert not result.is_error, result.content
    data = result.structured_content
    assert data is not None
    assert data["answer"] == "echo: say hello"
    assert data["model"] == "acme:model-a"
    assert data["decision"]["chosen"] == "acme:model-a"
    [row] = rows(engine)
    assert (row.provider, row.model, row.status, row.session_id) == ("acme", "model-a", "ok", "sess-1")
    assert (row.input_tokens, row.output_tokens) == (11, 7)
    assert row.priced and row.cost_usd == pytest.approx((11 * 1.0 + 7 * 2.0) / 1e6)


async def test_server_error_falls_back_to_the_next_model_and_both_attempts_are_rows(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script("model-a", Reply.error(500))
    server = server_for(settings, engine, acme_config(fake), tmp_path)
    with anyio.fail_after(20):
        async with Client(server) as client:
            result = await client.call_tool("delegate", {"task": "hi"})
    assert result.structured_content is not None
    assert result.structured_content["model"] == "acme:model-b"
    first, second = rows(engine)
    assert (first.attempt, first.status, second.attempt, second.status) == (0, "server_error", 1, "ok")
    assert first.request_id == second.request_id
    # model-b has no price in the config and genai-prices does not know it: unpriced, never $0.
    assert second.cost_usd is None and second.priced is False


async def test_every_candidate_failing_is_one_tool_error_listing_each(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script("model-a", Reply.error(503))
    fake.script("model-b", Reply(kind="garbage"))
    server = server_for(settings, engine, acme_config(fake), tmp_path)
    with anyio.fail_after(20):
        async with Client(server) as client:
            result = await client.call_tool("delegate", {"task": "hi"})
    assert result.is_error
    text = str(result.content[0])
    assert "acme:model-a: server_error" in text and "acme:model-b: malformed" in text
    assert [r.status for r in rows(engine)] == ["server_error", "malformed"]


async def test_long_answer_is_cut_with_a_note_and_the_full_text_is_retrievable(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    long_text = "x" * 9_000
    fake.script("model-a", Reply(text=long_text))
    config = acme_config(fake, output={"max_output_tokens": 1_000})
    server = server_for(settings, engine, config, tmp_path)
    with anyio.fail_after(20):
        async with Client(server) as client:
            result = await client.call_tool("delegate", {"task": "write a lot"})
            data = result.structured_content
            assert data is not None and data["truncated"]
            assert "get_output" in data["answer"] and len(data["answer"]) < len(long_text)
            chunk = await client.call_tool("get_output", {"output_id": data["output_id"], "max_chars": 60_000})
            resource = await client.read_resource(f"switchboard://outputs/{data['output_id']}")
    assert resource.contents[0].text == long_text  # type: ignore[union-attr]
    assert chunk.structured_content is not None
    assert chunk.structured_content["content"] == long_text
    with recorded(engine) as db:
        stored = db.get(StoredOutput, data["output_id"])
    assert stored is not None and stored.content == long_text


async def test_providers_tool_lists_models_health_and_prices_without_the_key(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    server = server_for(settings, engine, acme_config(fake), tmp_path)
    with anyio.fail_after(20):
        async with Client(server) as client:
            result = await client.call_tool("providers", {})
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert result.structured_content is not None
    [acme] = result.structured_content["providers"]
    assert acme["key"] == "ACME_KEY: set" and acme["breaker"] == "closed"
    by_id = {m["id"]: m for m in acme["models"]}
    assert by_id["acme:model-a"]["price_source"] == "config"
    assert by_id["acme:model-b"]["price_source"] == "unpriced"
    assert "sk-test-acme" not in str(result.content)
    # The config's default serves every task type, tried as written; the listing says so.
    route = result.structured_content["routes"]["code_fix"]
    assert route["models"] == ["acme:model-a", "acme:model-b"]
    assert route["why"] == "config [routing] default, tried as written"
    [text] = result.content
    assert isinstance(text, types.TextContent)
    assert "code_fix: acme:model-a, acme:model-b; config [routing] default, tried as written" in text.text
    assert tools["providers"].annotations is not None and tools["providers"].annotations.read_only_hint
    assert tools["delegate"].annotations is not None and tools["delegate"].annotations.open_world_hint
    assert {"delegate", "get_output", "providers", "stats"} <= set(tools)


async def test_open_breaker_is_recorded_as_provider_events(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script("model-a", Reply.error(500), Reply.error(500))
    config = acme_config(fake, resilience={"breaker_failures": 2, "breaker_cooldown_s": 600})
    config.routing.default = ["acme:model-a"]
    server = server_for(settings, engine, config, tmp_path)
    with anyio.fail_after(20):
        async with Client(server) as client:
            for _ in range(2):
                assert (await client.call_tool("delegate", {"task": "hi", "model": "acme:model-a"})).is_error
            third = await client.call_tool("delegate", {"task": "hi", "model": "acme:model-a"})
    assert third.is_error and "circuit open" in str(third.content[0])
    assert fake.calls_for("model-a") == 2
    with recorded(engine) as db:
        events = [e.event for e in db.exec(select(ProviderEvent).order_by(col(ProviderEvent.id))).all()]
    assert "breaker_open" in events


async def test_a_key_echoed_by_the_provider_reaches_neither_the_store_nor_the_client(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    wrong_key = "wrong-key-0123456789abcdef"
    environ = {"ACME_KEY": wrong_key}
    server = build_server(
        settings, acme_config(fake), SessionOptions(store=engine, environ=environ, roots=[tmp_path], ingest=False)
    )
    with anyio.fail_after(20):
        async with Client(server) as client:
            result = await client.call_tool("delegate", {"task": "hi"})
    assert result.is_error and "auth" in str(result.content[0])
    assert wrong_key not in str(result.content)
    with recorded(engine) as db:
        texts = [r.error or "" for r in db.exec(select(Delegation)).all()]
        texts += [e.detail or "" for e in db.exec(select(ProviderEvent)).all()]
    assert texts and all(wrong_key not in text for text in texts)
    assert any("[REDACTED]" in text for text in texts)


async def test_a_missing_key_comes_back_naming_the_variable_to_set(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    server = build_server(
        settings, acme_config(fake), SessionOptions(store=engine, environ={}, roots=[tmp_path], ingest=False)
    )
    with anyio.fail_after(20):
        async with Client(server) as client:
            result = await client.call_tool("delegate", {"task": "hi"})
    assert result.is_error and "set ACME_KEY" in str(result.content[0])
    assert fake.requests == []


async def test_an_anthropic_failure_falls_back_to_an_openai_compatible_provider(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    with FakeMessages(models=["claude-test"]) as messages:
        messages.script(Reply.error(529))
        config = acme_config(fake)
        config.providers["claude"] = ProviderConfig(
            kind="anthropic", base_url=messages.base_url, api_key_env="ANTHROPIC_TEST_KEY", models=["claude-test"]
        )
        config.routing.default = ["claude:claude-test", "acme:model-a"]
        environ = {"ACME_KEY": "sk-test-acme", "ANTHROPIC_TEST_KEY": "k-anthropic"}
        server = build_server(
            settings, config, SessionOptions(store=engine, environ=environ, roots=[tmp_path], ingest=False)
        )
        with anyio.fail_after(20):
            async with Client(server) as client:
                result = await client.call_tool("delegate", {"task": "hi", "system": "terse"})
    assert result.structured_content is not None
    assert result.structured_content["model"] == "acme:model-a"
    assert messages.requests[0]["system"] == "terse"
    assert [(r.provider, r.status) for r in rows(engine)] == [("claude", "server_error"), ("acme", "ok")]


async def test_without_an_engine_the_server_opens_and_migrates_the_store_on_first_need(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    environ = {"ACME_KEY": "sk-test-acme"}
    server = build_server(settings, acme_config(fake), SessionOptions(environ=environ, roots=[tmp_path], ingest=False))
    with anyio.fail_after(30):
        async with Client(server) as client:
            stats = await client.call_tool("stats", {})
            result = await client.call_tool("delegate", {"task": "hi"})
    assert not stats.is_error, stats.content
    assert not result.is_error, result.content
    from server.store.database import make_engine

    store = make_engine(settings.resolved_database_url)
    try:
        assert [r.status for r in rows(store)] == ["ok"]
    finally:
        store.dispose()


async def test_a_fallback_is_reported_as_progress_to_the_client(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script("model-a", Reply.error(502))
    server = server_for(settings, engine, acme_config(fake), tmp_path)
    messages: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(f"{progress:g}/{total:g} {message}")

    with anyio.fail_after(20):
        async with Client(server) as client:
            result = await client.call_tool("delegate", {"task": "hi"}, progress_callback=on_progress)
    assert not result.is_error
    assert messages == ["1/2 acme:model-a failed (server_error); trying acme:model-b"]


async def test_files_must_lie_inside_the_roots_the_client_lists(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    project = tmp_path / "client-project"
    project.mkdir()
    (project / "a.txt").write_text("inside the client's root")
    (tmp_path / "b.txt").write_text("inside the server's root only")

    async def list_roots(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=FileUrl(project.as_uri()), name="project")])

    server = server_for(settings, engine, acme_config(fake), tmp_path)
    with anyio.fail_after(20):
        # Claude Code speaks the handshake-era protocol, where the server may ask for the client's roots.
        async with Client(server, list_roots_callback=list_roots, mode="legacy") as client:
            inside = await client.call_tool("delegate", {"task": "read", "files": [str(project / "a.txt")]})
            outside = await client.call_tool("delegate", {"task": "read", "files": [str(tmp_path / "b.txt")]})
    assert not inside.is_error, inside.content
    assert "inside the client's root" in fake.requests[-1]["messages"][-1]["content"]
    assert outside.is_error and "outside the project root" in str(outside.content[0])


@pytest.mark.parametrize("secret", ["/etc/passwd", "/proc/self/environ", "~/.ssh/id_rsa", "../outside.txt"])
async def test_a_client_declaring_the_whole_disk_as_its_root_reads_nothing_outside_the_project(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path, secret: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "outside.txt").write_text("not the project's")

    async def list_roots(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=FileUrl("file:///"), name="everything")])

    server = server_for(settings, engine, acme_config(fake), project)
    with anyio.fail_after(20):
        async with Client(server, list_roots_callback=list_roots, mode="legacy") as client:
            result = await client.call_tool("delegate", {"task": "read", "files": [secret]})
    assert result.is_error
    assert "file refused" in str(result.content[0])
    assert fake.requests == []


async def test_provider_events_still_pending_at_shutdown_are_written(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    runtimes: list[Runtime] = []
    server = build_server(
        settings, acme_config(fake), SessionOptions(store=engine, environ={}, ingest=False, on_runtime=runtimes.append)
    )
    with anyio.fail_after(20):
        async with Client(server) as client:
            await client.list_tools()
            # As a call cancelled mid-way would leave them: recorded, not yet written.
            runtimes[0].record_error("acme", "timeout", "model-a: cancelled")
    with recorded(engine) as db:
        assert [(e.provider, e.event) for e in db.exec(select(ProviderEvent)).all()] == [("acme", "error")]


async def test_the_wait_for_the_warm_up_counts_against_the_clients_tool_timeout(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow import stands in for a loaded machine: the first call waits for the warm-up, on the client's clock.
    real_import = runtime_module.import_heavy_modules

    def slow_import() -> None:
        time.sleep(1.0)
        real_import()

    monkeypatch.setattr(runtime_module, "import_heavy_modules", slow_import)
    fake.script("model-a", Reply(kind="hang"))
    environ = {"ACME_KEY": "sk-test-acme", "MCP_TOOL_TIMEOUT": "4000"}
    server = build_server(
        settings, acme_config(fake), SessionOptions(store=engine, environ=environ, roots=[tmp_path], ingest=False)
    )
    with anyio.fail_after(20):
        async with Client(server) as client:
            started = time.perf_counter()
            result = await client.call_tool("delegate", {"task": "say hello"})
            waited_s = time.perf_counter() - started
    assert waited_s < 4.0
    assert result.is_error
    text = " ".join(block.text for block in result.content if isinstance(block, types.TextContent))
    # model-a is tried with what is left after the wait (or skipped, on a machine slower still); never model-b
    assert "acme:model-b: skipped: not tried: the client's tool timeout (MCP_TOOL_TIMEOUT)" in text
