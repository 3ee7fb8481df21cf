"""The other two ways in: ``switchboard install --user`` and loading this repo as a Claude Code plugin."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from server.store.database import make_engine
from server.store.hook_events import CAPTURE_EVENTS
from server.store.models import RawEvent
from server.store.spool import Spool
from tests.e2e.claude import REPO, claude_env, hook_timings_ms, run_claude, run_switchboard
from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, Usage, serve_anthropic

pytestmark = pytest.mark.claude

SESSION = Conversation(
    "E2E-SCOPE",
    [Turn(tool_uses=(ToolUse("Bash", {"command": "true", "description": "nothing"}),)), Turn(text="scoped.")],
)


@pytest.fixture
def api() -> Iterator[AnthropicFake]:
    with serve_anthropic(AnthropicFake([SESSION])) as fake:
        yield fake


def _spooled_events(state: Path) -> list[str]:
    spool = Spool(state / "spool")
    return [json.loads(entry.path.read_text())["hook_event_name"] for entry in spool.pending()]


def test_a_user_install_captures_sessions_in_any_project_and_serves_mcp(api: AnthropicFake, tmp_path: Path) -> None:
    user, project, state = tmp_path / "user", tmp_path / "anywhere", tmp_path / "state"
    user.mkdir()
    project.mkdir()
    run_switchboard("install", "--user", env={"HOME": str(user), "SWITCHBOARD_HOME": str(tmp_path / "records")})
    env = claude_env(user, api, SWITCHBOARD_HOME=str(state), MCP_CONNECTION_NONBLOCKING="false")
    result = run_claude("E2E-SCOPE go", project, env, tmp_path / "run", allowed_tools=("Bash",))
    assert result.returncode == 0 and result.output["result"] == "scoped."
    # SessionEnd started an ingest; this one waits for it and takes whatever is left.
    run_switchboard("ingest", "--quiet", env={"SWITCHBOARD_HOME": str(state), "SWITCHBOARD_DATABASE_URL": ""})
    engine = make_engine(f"sqlite:///{state / 'switchboard.db'}")
    with Session(engine) as db:
        names = set(db.exec(select(RawEvent.event_name).where(RawEvent.session_id == result.output["session_id"])))
    engine.dispose()
    assert {"SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SessionEnd"} <= names
    tools = {tool["name"] for tool in api.messages()[0].body.get("tools", [])}
    assert "mcp__switchboard__delegate" in tools


def test_this_repo_loaded_as_a_plugin_captures_hook_events(api: AnthropicFake, tmp_path: Path) -> None:
    user, project, state = tmp_path / "user", tmp_path / "proj", tmp_path / "state"
    user.mkdir()
    project.mkdir()
    env = claude_env(user, api, SWITCHBOARD_HOME=str(state))
    extra = ("--plugin-dir", str(REPO))
    result = run_claude("E2E-SCOPE go", project, env, tmp_path / "run", allowed_tools=("Bash",), extra_args=extra)
    assert result.returncode == 0 and result.output["result"] == "scoped."
    events = _spooled_events(state)
    assert {"SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SessionEnd"} <= set(events)
    assert set(events) <= set(CAPTURE_EVENTS)
    assert events.count("PreToolUse") == 1, "each event is captured once"


def test_the_context_pressure_hook_from_install_warns_the_next_prompt_of_a_full_window(tmp_path: Path) -> None:
    user, project, state = tmp_path / "user", tmp_path / "proj", tmp_path / "state"
    user.mkdir()
    project.mkdir()
    records = {"HOME": str(user), "SWITCHBOARD_HOME": str(tmp_path / "records")}
    run_switchboard("install", "--project", str(project), "--context-pressure", env=records)
    full = Conversation("E2E-FULL", [Turn(text="big.", usage=Usage(150_000, 10, 20_000, 0))])
    with serve_anthropic(AnthropicFake([full])) as fake:
        env = claude_env(user, fake, SWITCHBOARD_HOME=str(state))
        first = run_claude("E2E-FULL first", project, env, tmp_path / "run")
        assert first.returncode == 0 and first.output["result"] == "big."
        resume = ("--resume", first.output["session_id"])
        second = run_claude("E2E-FULL second", project, env, tmp_path / "run", extra_args=resume)
        assert second.returncode == 0, second.stderr
        last_request = json.dumps(fake.messages()[-1].body)
    assert "Context window 85% full (170,000 of 200,000 tokens)" in last_request
    pressure = [t for t in hook_timings_ms(second.debug_log) if "context_pressure.py" in t[1]]
    assert [(event, status) for event, _, status, _ in pressure] == [("UserPromptSubmit", 0)]


def test_after_uninstall_claude_code_captures_nothing_and_starts_no_switchboard_server(
    api: AnthropicFake, tmp_path: Path
) -> None:
    user, project, state = tmp_path / "user", tmp_path / "proj", tmp_path / "state"
    user.mkdir()
    project.mkdir()
    records = {"HOME": str(user), "SWITCHBOARD_HOME": str(tmp_path / "records")}
    run_switchboard("install", "--project", str(project), env=records)
    run_switchboard("uninstall", "--project", str(project), env=records)
    env = claude_env(user, api, SWITCHBOARD_HOME=str(state), MCP_CONNECTION_NONBLOCKING="false")
    result = run_claude("E2E-SCOPE go", project, env, tmp_path / "run", allowed_tools=("Bash",))
    assert result.returncode == 0 and result.output["result"] == "scoped."
    assert not state.exists()
    assert hook_timings_ms(result.debug_log) == []
    assert not any(tool["name"].startswith("mcp__") for tool in api.messages()[0].body.get("tools", []))
