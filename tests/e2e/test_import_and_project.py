"""Real Claude Code: past sessions imported with their exact cost; a project install that leaves git clean."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from server.store.database import make_engine
from server.store.models import AgentSession, Delegation, ModelUsage, RawEvent, SubagentRun
from tests.e2e.claude import REPO, SWITCHBOARD, claude_env, run_claude, run_switchboard
from tests.e2e.test_claude_code import MAIN, SUB
from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, Usage, serve_anthropic
from tests.fakes.openai_api import FakeOpenAI

pytestmark = pytest.mark.claude

PLAIN = Conversation("E2E-PLAIN", [Turn(text="plain.", usage=Usage(900, 12, 100, 50))])
SUBLESS_MAIN = Conversation(
    "E2E-PAST",
    [
        Turn(
            tool_uses=(
                ToolUse(
                    "Agent",
                    {"description": "side job", "prompt": "E2E-SUB check a thing", "subagent_type": "general-purpose"},
                ),
            ),
            usage=Usage(1200, 60),
        ),
        Turn(text="Past done.", usage=Usage(1300, 10)),
    ],
)


def _snapshot(url: str) -> tuple[list[Any], list[Any], list[Any]]:
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            sessions = [s.model_dump() for s in db.exec(select(AgentSession).order_by(AgentSession.session_id))]
            usage = [u.model_dump() for u in db.exec(select(ModelUsage).order_by(ModelUsage.id))]
            agents = [a.model_dump() for a in db.exec(select(SubagentRun).order_by(SubagentRun.id))]
    finally:
        engine.dispose()
    return sessions, usage, agents


def test_sessions_run_without_switchboard_are_imported_with_claude_codes_exact_cost(tmp_path: Path) -> None:
    user, project, state = tmp_path / "user", tmp_path / "proj", tmp_path / "state"
    user.mkdir()
    project.mkdir()
    with serve_anthropic(AnthropicFake([SUB, SUBLESS_MAIN, PLAIN])) as fake:
        env = claude_env(user, fake)
        results = [
            run_claude("E2E-PAST go", project, env, tmp_path / "run"),
            run_claude("E2E-PLAIN hi", project, env, tmp_path / "run"),
        ]
    assert [r.returncode for r in results] == [0, 0], results[0].stderr
    assert not state.exists()
    store = {"SWITCHBOARD_HOME": str(state), "SWITCHBOARD_DATABASE_URL": f"sqlite:///{state / 'sb.db'}"}
    out = run_switchboard("import", env={**store, "HOME": str(user)})
    assert "imported 2 sessions" in out
    sessions, usage, agents = _snapshot(store["SWITCHBOARD_DATABASE_URL"])
    by_id = {s["session_id"]: s for s in sessions}
    for result in results:
        row = by_id[result.output["session_id"]]
        assert row["cost_usd"] == pytest.approx(result.output["total_cost_usd"], rel=1e-9)
        assert row["cost_source"] == "claude_code" and Path(row["cwd"]).name == "proj"
    [agent] = agents
    assert (agent["session_id"], agent["agent_type"]) == (results[0].output["session_id"], "general-purpose")
    assert (agent["input_tokens"], agent["output_tokens"]) == (sum(t.usage.input_tokens for t in SUB.turns), 45)
    assert {u["output_tokens"] for u in usage} >= {60, 10, 12}
    run_switchboard("import", "--quiet", env={**store, "HOME": str(user)})
    assert _snapshot(store["SWITCHBOARD_DATABASE_URL"]) == (sessions, usage, agents)


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_a_project_install_captures_a_session_with_a_working_delegate_and_uninstall_leaves_git_clean(
    tmp_path: Path,
) -> None:
    user, project, state = tmp_path / "user", tmp_path / "repo", tmp_path / "state"
    user.mkdir()
    project.mkdir()
    _git(project, "init", "-q")
    (project / "README").write_text("hi\n")
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.json").write_text(json.dumps({"model": "opus"}, indent=2) + "\n")
    _git(project, "add", ".")
    _git(project, "-c", "user.email=e@x", "-c", "user.name=e", "commit", "-qm", "init")
    store = {"SWITCHBOARD_HOME": str(state), "SWITCHBOARD_DATABASE_URL": f"sqlite:///{state / 'sb.db'}"}
    run_switchboard("install", "--project", str(project), env={**store, "HOME": str(user)})
    assert _git(project, "status", "--porcelain") == "", "nothing to commit: settings.local.json is excluded"
    with FakeOpenAI(models=["model-a"]) as openai_api, serve_anthropic(AnthropicFake([SUB, MAIN])) as fake:
        config = tmp_path / "switchboard.toml"
        config.write_text(
            f'[providers.fake]\nkind = "openai-compatible"\nbase_url = "{openai_api.base_url}"\n'
            'api_key_env = "E2E_FAKE_KEY"\nmodels = ["model-a"]\n',
            encoding="utf-8",
        )
        env = claude_env(
            user,
            fake,
            **store,
            SWITCHBOARD_CONFIG=str(config),
            E2E_FAKE_KEY="sk-e2e-fake",
            MCP_CONNECTION_NONBLOCKING="false",
        )
        result = run_claude("E2E-MAIN please work", project, env, tmp_path / "run")
        delegated = [r["messages"][-1]["content"] for r in openai_api.requests]
    assert result.returncode == 0 and result.output["result"] == "All done.", result.stderr
    assert delegated == ["E2E-DELEGATED summarise"]
    run_switchboard("ingest", "--quiet", env=store)
    engine = make_engine(store["SWITCHBOARD_DATABASE_URL"])
    with Session(engine) as db:
        session = db.get(AgentSession, result.output["session_id"])
        [delegation] = list(db.exec(select(Delegation)))
    engine.dispose()
    assert session is not None and session.cost_usd == pytest.approx(result.output["total_cost_usd"], rel=1e-9)
    assert (delegation.session_id, delegation.status) == (result.output["session_id"], "ok")
    run_switchboard("uninstall", "--project", str(project), env={**store, "HOME": str(user)})
    assert _git(project, "status", "--porcelain", "--ignored") == ""


def test_a_shared_install_works_from_path_alone_and_uninstall_leaves_the_project_as_found(tmp_path: Path) -> None:
    user, project, state = tmp_path / "user", tmp_path / "proj", tmp_path / "state"
    user.mkdir()
    project.mkdir()
    records = {"HOME": str(user), "SWITCHBOARD_HOME": str(tmp_path / "records")}
    run_switchboard("install", "--project", str(project), "--shared", env=records)
    written = (project / ".claude" / "settings.json").read_text() + (project / ".mcp.json").read_text()
    assert str(tmp_path) not in written and str(REPO) not in written
    with serve_anthropic(AnthropicFake([PLAIN])) as fake:
        env = claude_env(user, fake, SWITCHBOARD_HOME=str(state), MCP_CONNECTION_NONBLOCKING="false")
        env["PATH"] = f"{SWITCHBOARD.parent}:{env['PATH']}"  # `switchboard` on PATH, as pipx or uv tool puts it
        result = run_claude("E2E-PLAIN hi", project, env, tmp_path / "run")
        tools = {tool["name"] for tool in fake.messages()[0].body.get("tools", [])}
    assert result.returncode == 0 and result.output["result"] == "plain.", result.stderr
    assert "mcp__switchboard__delegate" in tools
    assert {"SessionStart", "UserPromptSubmit", "Stop"} <= set(_spooled(state))
    run_switchboard("uninstall", "--project", str(project), env=records)
    assert list(project.iterdir()) == []


def _spooled(state: Path) -> list[str]:
    """Every captured event's name: this ingest waits for the SessionEnd hook's one, then takes the rest."""
    run_switchboard("ingest", "--quiet", env={"SWITCHBOARD_HOME": str(state), "SWITCHBOARD_DATABASE_URL": ""})
    engine = make_engine(f"sqlite:///{state / 'switchboard.db'}")
    with Session(engine) as db:
        names = list(db.exec(select(RawEvent.event_name)))
    engine.dispose()
    return names
