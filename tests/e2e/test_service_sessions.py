"""Real Claude Code through the launcher and the warm service: sessions keep their own identity and config, a
killed service is replaced unseen, and Claude Code's own telemetry lands in ``api_request``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session, select

from server.commands.service import query_status
from server.store.database import make_engine
from server.store.models import ApiRequest, Delegation
from tests.e2e.claude import ClaudeResult, claude_env, run_claude, run_switchboard, wait_until
from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, Usage, serve_anthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.server.service.launch import service_pid, stop_service, wait_gone

pytestmark = pytest.mark.claude


def _delegating(marker: str, model: str) -> Conversation:
    return Conversation(
        marker,
        [
            Turn(
                tool_uses=(ToolUse("mcp__switchboard__delegate", {"task": f"{marker} job", "model": model}),),
                usage=Usage(900, 30),
            ),
            Turn(text=f"{marker} done.", usage=Usage(1000, 10)),
        ],
    )


@dataclass
class World:
    root: Path
    home: Path
    openai: FakeOpenAI
    anthropic: AnthropicFake

    def config(self, name: str, provider: str, model: str, key_env: str) -> Path:
        path = self.root / f"{name}.toml"
        path.write_text(
            f'[providers.{provider}]\nbase_url = "{self.openai.base_url}"\napi_key_env = "{key_env}"\n'
            f'models = ["{model}"]\n',
            encoding="utf-8",
        )
        return path

    def env(self, user: str, **extra: str) -> dict[str, str]:
        """A user's Claude Code environment; a local project install lives in that user's ``~/.claude.json``."""
        if not (self.root / user).exists():
            # One project per user: install keeps one registration per project and SWITCHBOARD_HOME.
            (self.root / user).mkdir()
            (self.root / f"proj-{user}").mkdir()
            install_env = {"HOME": str(self.root / user), "SWITCHBOARD_HOME": str(self.home)}
            run_switchboard("install", "--project", str(self.root / f"proj-{user}"), env=install_env)
        return claude_env(
            self.root / user,
            self.anthropic,
            SWITCHBOARD_HOME=str(self.home),
            MCP_CONNECTION_NONBLOCKING="false",
            **extra,
        )

    def run(self, prompt: str, env: dict[str, str], tag: str) -> ClaudeResult:
        project = self.root / f"proj-{Path(env['HOME']).name}"
        result = run_claude(prompt, project, env, self.root / f"run-{tag}")
        assert result.returncode == 0, result.stderr
        return result

    def delegations(self) -> list[tuple[str | None, str, str]]:
        engine = make_engine(f"sqlite:///{self.home / 'switchboard.db'}")
        try:
            with Session(engine) as db:
                return sorted((r.session_id, r.model, r.status) for r in db.exec(select(Delegation)))
        finally:
            engine.dispose()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    home = tmp_path / "state"
    with FakeOpenAI(models=["model-a", "model-b"]) as openai_api, serve_anthropic(AnthropicFake([])) as fake:
        try:
            yield World(tmp_path, home, openai_api, fake)
        finally:
            stop_service(home)


def test_two_concurrent_sessions_with_different_configs_get_their_own_delegations_and_session_ids(
    world: World,
) -> None:
    world.anthropic.conversations = [_delegating("E2E-A", "acme:model-a"), _delegating("E2E-B", "beta:model-b")]
    env_a = world.env("user-a", SWITCHBOARD_CONFIG=str(world.config("a", "acme", "model-a", "A_KEY")), A_KEY="sk-a")
    env_b = world.env("user-b", SWITCHBOARD_CONFIG=str(world.config("b", "beta", "model-b", "B_KEY")), B_KEY="sk-b")
    with ThreadPoolExecutor(2) as pool:
        future_a = pool.submit(world.run, "E2E-A go", env_a, "a")
        future_b = pool.submit(world.run, "E2E-B go", env_b, "b")
        a, b = future_a.result(), future_b.result()
    assert (a.output["result"], b.output["result"]) == ("E2E-A done.", "E2E-B done.")
    session_a, session_b = a.output["session_id"], b.output["session_id"]
    assert session_a != session_b
    assert world.delegations() == sorted([(session_a, "model-a", "ok"), (session_b, "model-b", "ok")])
    assert query_status(world.home)["running"] is True  # one service served them (the launcher started it)


def test_a_session_after_kill_9_of_the_service_still_delegates(world: World) -> None:
    world.anthropic.conversations = [_delegating("E2E-K1", "acme:model-a"), _delegating("E2E-K2", "acme:model-a")]
    env = world.env("user", SWITCHBOARD_CONFIG=str(world.config("a", "acme", "model-a", "A_KEY")), A_KEY="sk-a")
    first = world.run("E2E-K1 go", env, "k1")
    killed = service_pid(world.home)
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    wait_gone(killed, 10, "the killed service")
    second = world.run("E2E-K2 go", env, "k2")
    assert second.output["result"] == "E2E-K2 done." and second.output["is_error"] is False
    replaced = service_pid(world.home)
    assert replaced is not None and replaced != killed
    rows = world.delegations()
    assert (first.output["session_id"], "model-a", "ok") in rows
    assert (second.output["session_id"], "model-a", "ok") in rows


def test_claude_codes_telemetry_rows_sum_to_the_sessions_total_cost(world: World) -> None:
    world.anthropic.conversations = [_delegating("E2E-T", "acme:model-a")]
    env = world.env("user", SWITCHBOARD_CONFIG=str(world.config("a", "acme", "model-a", "A_KEY")), A_KEY="sk-a")
    env.pop("DISABLE_TELEMETRY")
    store_env = {"SWITCHBOARD_HOME": str(world.home), "HOME": env["HOME"]}
    run_switchboard("service", "start", "--port", "0", "--idle", "60", env=store_env)
    port = int(query_status(world.home)["port"])
    run_switchboard("install", "--user", "--otel", env={**store_env, "SWITCHBOARD_SERVICE_PORT": str(port)})
    result = world.run("E2E-T go", env, "t")
    session_id, total = result.output["session_id"], result.output["total_cost_usd"]
    engine = make_engine(f"sqlite:///{world.home / 'switchboard.db'}")

    def requests() -> list[ApiRequest]:
        with Session(engine) as db:
            return list(db.exec(select(ApiRequest).where(ApiRequest.session_id == session_id)))

    try:
        wait_until(lambda: len(requests()) >= 2, 30, "the session's api_request rows")
        rows = requests()
    finally:
        engine.dispose()
    assert total > 0
    assert round(sum(row.cost_usd or 0 for row in rows), 9) == round(total, 9)
    assert all(row.model and row.duration_ms is not None for row in rows)
