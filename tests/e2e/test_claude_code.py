"""The real Claude Code CLI, offline against the fake Anthropic API, captured by ``switchboard install``'s hooks.

A scripted session (a Bash call, a failing Bash call, a subagent with its own Bash call) runs in a project set
up with ``switchboard install --project``; the SessionEnd hook starts ``switchboard ingest``, and the store
must then hold the session, its prompt, its tool calls with their statuses, and the subagent run with its
tokens, and the session's cost must be Claude Code's own ``total_cost_usd``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.redact import redact_text
from server.settings import Settings
from server.store.database import make_engine
from server.store.models import AgentSession, Delegation, Prompt, SubagentRun, ToolCall
from server.store.spool import Spool
from tests.e2e.claude import (
    CLAUDE,
    ClaudeResult,
    claude_env,
    hook_timings_ms,
    run_claude,
    run_switchboard,
    wait_until,
)
from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, Usage, serve_anthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.server.service.launch import stop_service

pytestmark = pytest.mark.claude

SECRET = "sk-ant-api03-E2Esecret0123456789abcdef"
"""Goes by in a tool's input and output: ingest must redact it."""

MAIN = Conversation(
    "E2E-MAIN",
    [
        Turn(
            text="Looking around.",
            tool_uses=(ToolUse("Bash", {"command": f"echo hello {SECRET}", "description": "say hello"}),),
            usage=Usage(1000, 50, 200, 300),
        ),
        Turn(
            tool_uses=(ToolUse("Bash", {"command": "exit 3", "description": "fail on purpose"}),), usage=Usage(1100, 40)
        ),
        Turn(
            tool_uses=(
                ToolUse("mcp__switchboard__delegate", {"task": "E2E-DELEGATED summarise", "model": "fake:model-a"}),
            ),
            usage=Usage(1150, 45),
        ),
        Turn(
            tool_uses=(
                ToolUse(
                    "Agent",
                    {"description": "side job", "prompt": "E2E-SUB check a thing", "subagent_type": "general-purpose"},
                ),
            ),
            usage=Usage(1200, 60),
        ),
        Turn(text="All done.", usage=Usage(1300, 10)),
    ],
)
SUB = Conversation(
    "E2E-SUB",
    [
        Turn(
            tool_uses=(ToolUse("Bash", {"command": "echo from-sub", "description": "sub echo"}),), usage=Usage(500, 30)
        ),
        Turn(text="Sub finished.", usage=Usage(600, 15)),
    ],
)


@dataclass
class Captured:
    """One installed project after a scripted Claude Code session, and its store."""

    result: ClaudeResult
    settings: Settings
    fake: AnthropicFake
    engine: Engine
    delegated: list[str]


@pytest.fixture
def api() -> Iterator[AnthropicFake]:
    with serve_anthropic(AnthropicFake([SUB, MAIN])) as fake:
        yield fake


def _install_project(folder: Path, user: Path) -> Path:
    """``install --project``: hooks in settings.local.json, the server in ``user``'s ~/.claude.json (local scope)."""
    folder.mkdir()
    user.mkdir(exist_ok=True)
    state = user / ".local" / "share" / "switchboard"
    run_switchboard("install", "--project", str(folder), env={"HOME": str(user), "SWITCHBOARD_HOME": str(state)})
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _install_project(tmp_path / "proj", tmp_path / "user")


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Captured]:
    """Run the scripted session once for this module, then wait (bounded) for the SessionEnd hook's ingest.

    SQLite on purpose: this exercises Claude Code and the hooks; the store's backends have their own tests.
    """
    root = tmp_path_factory.mktemp("e2e")
    settings = Settings(home=root / "state", database_url=f"sqlite:///{root / 'state' / 'switchboard.db'}")
    project = _install_project(root / "proj", root / "user")
    store_env = {"SWITCHBOARD_HOME": str(settings.home), "SWITCHBOARD_DATABASE_URL": settings.resolved_database_url}
    with FakeOpenAI(models=["model-a"]) as openai_api, serve_anthropic(AnthropicFake([SUB, MAIN])) as fake:
        config = root / "switchboard.toml"
        config.write_text(
            f'[providers.fake]\nkind = "openai-compatible"\nbase_url = "{openai_api.base_url}"\n'
            'api_key_env = "E2E_FAKE_KEY"\nmodels = ["model-a"]\n',
            encoding="utf-8",
        )
        env = claude_env(
            root / "user",
            fake,
            **store_env,
            SWITCHBOARD_CONFIG=str(config),
            E2E_FAKE_KEY="sk-e2e-fake",
            # Headless Claude Code starts MCP servers without waiting for them; the scripted session
            # calls the delegate tool, so make it wait.
            MCP_CONNECTION_NONBLOCKING="false",
        )
        result = run_claude("E2E-MAIN please work", project, env, root / "run")
        delegated = [r["messages"][-1]["content"] for r in openai_api.requests]
    assert result.returncode == 0, result.stderr
    spool = Spool(settings.spool_dir)
    log = settings.log_dir / "ingest.log"
    try:
        wait_until(lambda: spool.count_pending() == 0, 60, "the SessionEnd hook's ingest to empty spool/new")
    except AssertionError as exc:
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no ingest log: ingest never started)"
        raise AssertionError(f"{exc}\n--- {log} ---\n{tail}") from None
    # The detached ingest may still be committing its last batch: this one waits for its lock, then finds
    # nothing left or finishes the job; either way every row is in when it returns.
    run_switchboard("ingest", "--quiet", env=store_env)
    engine = make_engine(settings.resolved_database_url)
    yield Captured(result, settings, fake, engine, delegated)
    engine.dispose()
    stop_service(settings.home)


def test_claude_code_binary_is_installed_for_the_tests() -> None:
    assert CLAUDE.is_file() and os.access(CLAUDE, os.X_OK), "run: (cd tests && npm ci)"


def test_session_row_carries_claude_codes_own_cost_of_record(captured: Captured) -> None:
    output = captured.result.output
    with Session(captured.engine) as db:
        session = db.get(AgentSession, output["session_id"])
    assert session is not None
    assert session.cost_usd == pytest.approx(output["total_cost_usd"], rel=1e-9)
    assert session.cost_source == "claude_code"
    assert session.ended_at is not None and session.started_at is not None
    assert session.cwd is not None and Path(session.cwd).name == "proj"


def test_the_users_prompt_is_recorded_once(captured: Captured) -> None:
    with Session(captured.engine) as db:
        texts = [
            p.text for p in db.exec(select(Prompt).where(Prompt.session_id == captured.result.output["session_id"]))
        ]
    assert texts.count("E2E-MAIN please work") == 1


def test_tool_calls_are_recorded_with_ok_and_error_statuses(captured: Captured) -> None:
    with Session(captured.engine) as db:
        calls = list(db.exec(select(ToolCall).where(ToolCall.session_id == captured.result.output["session_id"])))
    by_input = {(c.tool_name, c.input_summary or ""): c for c in calls}
    hello = next(c for (name, summary), c in by_input.items() if name == "Bash" and "echo hello" in summary)
    failed = next(c for (name, summary), c in by_input.items() if name == "Bash" and "exit 3" in summary)
    sub = next(c for (name, summary), c in by_input.items() if name == "Bash" and "from-sub" in summary)
    assert (hello.status, hello.agent_id) == ("ok", None)
    assert failed.status == "error" and failed.error is not None and "Exit code 3" in failed.error
    assert sub.status == "ok" and sub.agent_id is not None
    assert any(c.tool_name == "Agent" for c in calls)


def test_the_subagent_run_has_its_type_and_its_own_tokens(captured: Captured) -> None:
    with Session(captured.engine) as db:
        [run] = list(db.exec(select(SubagentRun).where(SubagentRun.session_id == captured.result.output["session_id"])))
    assert run.agent_type == "general-purpose"
    assert run.started_at is not None and run.stopped_at is not None
    assert (run.input_tokens, run.output_tokens) == (500 + 600, 30 + 15)


def test_the_mcp_delegate_call_is_a_delegation_row_of_the_claude_code_session(captured: Captured) -> None:
    session_id = captured.result.output["session_id"]
    assert captured.delegated == ["E2E-DELEGATED summarise"]
    with Session(captured.engine) as db:
        [delegation] = list(db.exec(select(Delegation)))
        [call] = list(db.exec(select(ToolCall).where(ToolCall.tool_name == "mcp__switchboard__delegate")))
    assert (delegation.session_id, delegation.provider, delegation.model) == (session_id, "fake", "model-a")
    assert delegation.status == "ok" and delegation.output_tokens > 0
    assert (call.session_id, call.status) == (session_id, "ok")


def test_a_secret_in_a_tool_call_reaches_neither_the_store_nor_the_logs(captured: Captured) -> None:
    home = captured.settings.home
    files = [p for p in home.rglob("*") if p.is_file() and (p.suffix in (".db", ".log") or p.name.endswith("-wal"))]
    assert any(p.suffix == ".db" for p in files)
    leaked = [p for p in files if SECRET.encode() in p.read_bytes()]
    assert leaked == []
    with Session(captured.engine) as db:
        calls = list(db.exec(select(ToolCall).where(ToolCall.tool_name == "Bash")))
    assert any(redact_text(SECRET) in (c.input_summary or "") for c in calls), "the secret went by, redacted"


def test_hooks_did_not_change_what_claude_code_did(captured: Captured) -> None:
    assert captured.result.output["result"] == "All done."
    assert captured.result.output["is_error"] is False


def test_a_malformed_payload_leaves_the_hook_silent_and_successful_and_is_quarantined(
    project: Path, settings: Settings, engine: Engine
) -> None:
    """Claude Code runs hook commands through a shell; do the same with bytes that are not a hook event."""
    import json
    import shlex

    hooks = json.loads((project / ".claude" / "settings.local.json").read_text())["hooks"]
    command = hooks["PreToolUse"][0]["hooks"][0]["command"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(settings.home), "SWITCHBOARD_HOME": str(settings.home)}
    done = subprocess.run(["sh", "-c", command], input=b"\x00{not json", env=env, capture_output=True, timeout=10)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert shlex.split(command, comments=True)[0].endswith("capture.sh")
    run_switchboard("ingest", "--quiet", env={"SWITCHBOARD_HOME": str(settings.home)})
    assert len([p for p in Spool(settings.spool_dir).quarantine_dir.iterdir() if not p.name.endswith(".reason")]) == 1


def test_claude_code_works_unchanged_when_the_spool_cannot_be_written(
    api: AnthropicFake, project: Path, tmp_path: Path
) -> None:
    # A home below a regular file cannot be created, not even by root.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    home = tmp_path / "user"
    home.mkdir(exist_ok=True)  # the project fixture installed into it (local scope)
    env = claude_env(home, api, SWITCHBOARD_HOME=str(blocker / "home"))
    api.conversations = [Conversation("E2E-RO", [Turn(text="fine.")])]
    result = run_claude("E2E-RO hello", project, env, tmp_path / "run")
    assert result.returncode == 0 and result.output["result"] == "fine."
    timings = hook_timings_ms(result.debug_log)
    assert timings and all(status == 0 for _, _, status, _ in timings)
