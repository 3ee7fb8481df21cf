"""Real Claude Code (offline, against the fake Anthropic API) calls ``consensus`` on ``switchboard serve``.

The MCP server's stdin and stdout are teed to files, so the test sees the progress token Claude Code sends
with the call and the progress notifications the server sends back for it.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from server.store.database import make_engine
from server.store.models import ConsensusRun, Delegation
from tests.e2e.claude import SWITCHBOARD, ClaudeResult, claude_env, run_claude
from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, serve_anthropic
from tests.fakes.openai_api import FakeOpenAI, Reply

pytestmark = pytest.mark.claude

TOOL = "mcp__switchboard__consensus"
HANG = Reply(kind="hang")
ARGUMENTS = {"question": "6 x 7?", "models": ["pa:a1", "pb:b1", "pc:c1"], "strategy": "vote"}


@dataclass
class ClaudeRun:
    """One scripted Claude Code session that called the tool, and what went over the MCP pipe."""

    result: ClaudeResult
    tool_text: str
    """What Claude Code handed its model: the tool result's text content."""
    tool_result: dict[str, Any]
    """The structuredContent the server sent (read from the teed MCP pipe)."""
    sent: list[dict[str, Any]]
    received: list[dict[str, Any]]
    home: Path


def _jsonl(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{")]


def run_session(root: Path, arguments: dict[str, Any], replies: dict[str, Reply], **env_extra: str) -> ClaudeRun:
    """A Claude Code session whose model calls ``consensus`` once with ``arguments``; members answer ``replies``."""
    for folder in ("user", "proj"):
        (root / folder).mkdir()
    script = Conversation("CONSENSUS-E2E", [Turn(tool_uses=(ToolUse(TOOL, arguments),)), Turn(text="done")])
    with FakeOpenAI(models=list(replies)) as models, serve_anthropic(AnthropicFake([script])) as api:
        config = root / "switchboard.toml"
        config.write_text(
            "".join(
                f'[providers.p{m[0]}]\nkind = "openai-compatible"\nbase_url = "{models.base_url}"\nmodels = ["{m}"]\n'
                for m in replies
            ),
            encoding="utf-8",
        )
        for model, reply in replies.items():
            models.script(model, reply)
        serve = f"{shlex.quote(str(SWITCHBOARD))} serve --no-ingest"
        tee = f"tee {root / 'sent.jsonl'} | {serve} | tee {root / 'received.jsonl'}"
        mcp = {"mcpServers": {"switchboard": {"command": "/bin/sh", "args": ["-c", tee]}}}
        env = claude_env(
            root / "user",
            api,
            SWITCHBOARD_HOME=str(root / "state"),
            SWITCHBOARD_CONFIG=str(config),
            MCP_CONNECTION_NONBLOCKING="false",
            **env_extra,
        )
        result = run_claude("CONSENSUS-E2E go", root / "proj", env, root / "run", allowed_tools=(TOOL,), mcp_config=mcp)
        bodies = [recorded.body for recorded in api.requests]
    assert result.returncode == 0, result.stderr
    blocks = [
        block
        for body in bodies
        for message in body.get("messages", [])
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]
    assert blocks, "Claude Code never sent the tool result back to the model"
    content = blocks[-1]["content"]
    text = content if isinstance(content, str) else "".join(part.get("text", "") for part in content)
    assert not blocks[-1].get("is_error"), text
    sent, received = _jsonl(root / "sent.jsonl"), _jsonl(root / "received.jsonl")
    [call_id] = [m["id"] for m in sent if m.get("method") == "tools/call"]
    [structured] = [m["result"]["structuredContent"] for m in received if m.get("id") == call_id and "result" in m]
    return ClaudeRun(result, text, structured, sent, received, root)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> ClaudeRun:
    # The dissenter answers first, so the vote hears all three members.
    replies = {
        "a1": Reply(text="Final answer: 42", delay_s=0.3),
        "b1": Reply(text="Final answer: 41"),
        "c1": Reply(text="Final answer: 42", delay_s=0.3),
    }
    return run_session(tmp_path_factory.mktemp("consensus-claude"), ARGUMENTS, replies)


def test_claude_code_gets_the_voted_answer_with_its_agreement_and_dissent(session: ClaudeRun) -> None:
    # Measured: Claude Code 2.1.328 hands its model the structuredContent as JSON, not the text content, when a
    # result has both; so the structured copy is kept compact too (no nulls, no defaults, rounded numbers).
    seen = json.loads(session.tool_text)
    assert seen == session.tool_result
    assert seen["final_answer"] == "Final answer: 42"
    assert seen["agreement"] == 0.667
    assert seen["dissent"] == "pb:b1: Final answer: 41"
    assert "null" not in session.tool_text and '"error"' not in session.tool_text


def test_the_server_reports_progress_for_claude_codes_progress_token_as_members_finish(session: ClaudeRun) -> None:
    [call] = [m for m in session.sent if m.get("method") == "tools/call"]
    token = call["params"]["_meta"]["progressToken"]
    progress = [m["params"] for m in session.received if m.get("method") == "notifications/progress"]
    assert [(p["progressToken"], p["progress"], p["total"]) for p in progress] == [(token, i, 3) for i in (1, 2, 3)]
    assert progress[0]["message"] == "pb:b1: ok (1/3 members)"


def test_the_run_is_recorded_under_claude_codes_session(session: ClaudeRun) -> None:
    engine = make_engine(f"sqlite:///{session.home / 'state' / 'switchboard.db'}")
    try:
        with Session(engine) as db:
            run = db.exec(select(ConsensusRun)).one()
            members = db.exec(select(Delegation).where(Delegation.consensus_run_id == run.id)).all()
    finally:
        engine.dispose()
    assert run.id == session.tool_result["run_id"]
    assert run.session_id == session.result.output["session_id"]
    assert {row.session_id for row in members} == {run.session_id}
    assert len(members) == 3


def test_a_hanging_member_and_judge_do_not_make_claude_codes_tool_timeout_fire(tmp_path: Path) -> None:
    # Claude Code fails a tool call at MCP_TOOL_TIMEOUT whatever progress it hears; the run must end first.
    replies = {"a1": Reply(text="Final answer: 42"), "b1": Reply(text="Final answer: 42"), "c1": HANG, "j1": HANG}
    arguments = {**ARGUMENTS, "strategy": "judge", "judge": "pj:j1", "timeout_s": 60}
    run = run_session(tmp_path, arguments, replies, MCP_TOOL_TIMEOUT="6000")
    assert run.tool_result["final_answer"] == "Final answer: 42"
    assert [m["status"] for m in run.tool_result["members"]] == ["ok", "ok", "deadline"]
    assert run.tool_result["judge"]["status"] == "deadline"
    assert run.tool_result["latency_ms"] < 6_000
