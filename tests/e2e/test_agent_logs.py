"""Real Codex CLI and Gemini CLI sessions against loopback fakes, read by ``switchboard import``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from server.pricing import cost_usd
from server.store.models import AgentLog, AgentSession, ModelUsage, ToolCall
from tests.e2e.agent_clis import (
    CODEX,
    GEMINI,
    codex_home,
    environ_without_agent_homes,
    gemini_home,
    run_codex,
    run_gemini,
)
from tests.e2e.claude import SWITCHBOARD
from tests.fakes.gemini_api import FakeGemini, GeminiCall, GeminiTurn, function_responses
from tests.fakes.openai_responses import Call, FakeResponses, Turn, function_outputs

pytestmark = [
    pytest.mark.agent_cli,
    pytest.mark.skipif(not (CODEX.exists() and GEMINI.exists()), reason="run: cd tests && npm ci"),
]


def _codex_script(body: dict[str, Any]) -> Turn:
    if function_outputs(body) == 0 and "run" in json.dumps(body.get("input"))[-400:]:
        return Turn(
            calls=[Call("exec_command", {"cmd": "echo hi"})], input_tokens=2000, cached_tokens=500, output_tokens=30
        )
    return Turn(text="done", input_tokens=2100, cached_tokens=1800, output_tokens=12, reasoning_tokens=4)


def _gemini_script(_model: str, body: dict[str, Any]) -> GeminiTurn:
    if function_responses(body) == 0:
        call = GeminiCall("run_shell_command", {"command": "echo hi"})
        return GeminiTurn(calls=[call], prompt_tokens=3000, cached_tokens=1000, output_tokens=20, thoughts_tokens=7)
    return GeminiTurn(text="done", prompt_tokens=3100, cached_tokens=2900, output_tokens=9)


def _import(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**environ_without_agent_homes(), "HOME": str(home)}
    command = [str(SWITCHBOARD), "import", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _counts(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as db:
        return tuple(
            db.exec(select(func.count()).select_from(table)).one() for table in (AgentSession, ModelUsage, ToolCall)
        )


@pytest.fixture
def codex_sessions(tmp_path: Path) -> Path:
    """A home whose ~/.codex holds two real Codex CLI sessions: one that ran a command, one that did not."""
    home = tmp_path / "codex-user"
    work = home / "my-app"
    work.mkdir(parents=True)
    with FakeResponses(_codex_script) as fake:
        codex_home(home, fake)
        for prompt in ("run echo hi", "say done"):
            done = run_codex(home, work, prompt)
            assert done.returncode == 0, done.stderr[-2000:]
    return home


def test_import_reads_real_codex_sessions_with_tokens_tools_and_an_estimated_cost(
    engine: Engine, codex_sessions: Path
) -> None:
    done = _import(codex_sessions)
    assert done.returncode == 0, done.stderr
    assert "imported 2 codex sessions" in done.stdout and "2 new" in done.stdout
    with Session(engine) as db:
        sessions = db.exec(select(AgentSession).order_by(col(AgentSession.started_at))).all()
        assert [s.agent for s in sessions] == ["codex", "codex"]
        assert {s.project for s in sessions} == {"my-app"} and {s.cost_source for s in sessions} == {"estimated"}
        assert all(s.user and s.host for s in sessions)
        usage = db.exec(select(ModelUsage).where(ModelUsage.session_id == sessions[0].session_id)).all()
        # The first session: a call with a command (2000 in, 500 of them cached, 30 out), then the answer.
        assert sorted((u.input_tokens, u.cache_read_tokens, u.output_tokens) for u in usage) == [
            (300, 1800, 12),
            (1500, 500, 30),
        ]
        assert {u.model for u in usage} == {"gpt-5.1-codex"} and sessions[0].models == ["gpt-5.1-codex"]
        expected = sum(
            cost_usd("gpt-5.1-codex", provider="openai", input_tokens=i, cache_read_tokens=c, output_tokens=o) or 0
            for i, c, o in [(1500, 500, 30), (300, 1800, 12)]
        )
        assert sessions[0].cost_usd == pytest.approx(expected) and expected > 0
        tools = db.exec(select(ToolCall)).all()
        assert [(t.tool_name, t.status, t.session_id) for t in tools] == [
            ("exec_command", "ok", sessions[0].session_id)
        ]
        assert "echo hi" in (tools[0].input_summary or "") and "hi" in (tools[0].response_summary or "")
    before = _counts(engine)
    again = _import(codex_sessions)
    assert again.returncode == 0 and "0 new, 2 files unchanged" in again.stdout, again.stdout
    assert _counts(engine) == before


@pytest.fixture
def gemini_sessions(tmp_path: Path) -> Path:
    """A home whose ~/.gemini holds a real Gemini CLI session that ran a shell command."""
    home = tmp_path / "gemini-user"
    work = home / "web-app"
    work.mkdir(parents=True)
    gemini_home(home)
    with FakeGemini(_gemini_script) as fake:
        done = run_gemini(home, work, fake, "say hi and run echo")
        assert done.returncode == 0, done.stderr[-2000:]
    return home


def test_import_reads_a_real_gemini_session_with_thoughts_billed_as_output(
    engine: Engine, gemini_sessions: Path
) -> None:
    done = _import(gemini_sessions)
    assert done.returncode == 0, done.stderr
    assert "imported 1 gemini sessions" in done.stdout
    with Session(engine) as db:
        session = db.exec(select(AgentSession)).one()
        assert (session.agent, session.project, session.cost_source) == ("gemini", "web-app", "estimated")
        usage = db.exec(select(ModelUsage).order_by(col(ModelUsage.created_at))).all()
        # input 3000 with 1000 cached, 20 out + 7 thoughts; then 3100 with 2900 cached, 9 out.
        assert [(u.input_tokens, u.cache_read_tokens, u.output_tokens) for u in usage] == [
            (2000, 1000, 27),
            (200, 2900, 9),
        ]
        assert session.models == ["gemini-2.5-flash"]
        expected = sum(
            cost_usd("gemini-2.5-flash", provider="google", input_tokens=i, cache_read_tokens=c, output_tokens=o) or 0
            for i, c, o in [(2000, 1000, 27), (200, 2900, 9)]
        )
        assert session.cost_usd == pytest.approx(expected) and expected > 0
        tool = db.exec(select(ToolCall)).one()
        assert (tool.tool_name, tool.status) == ("run_shell_command", "ok")
    before = _counts(engine)
    assert "0 new, 1 files unchanged" in _import(gemini_sessions).stdout
    assert _counts(engine) == before


def test_lines_a_newer_codex_writes_are_skipped_counted_and_named_by_doctor(
    engine: Engine, codex_sessions: Path
) -> None:
    rollout = sorted((codex_sessions / ".codex" / "sessions").glob("**/rollout-*.jsonl"))[0]
    lines = rollout.read_text().splitlines()
    future = {"timestamp": "2026-12-05T10:00:00.000Z", "type": "hologram_frame", "payload": {"x": 1}}
    bad_usage = {"timestamp": "2026-12-05T10:00:00.000Z", "type": "token_usage_record", "payload": {"usage": "lots"}}
    rollout.write_text("\n".join([lines[0], json.dumps(future), "{cut", json.dumps(bad_usage), *lines[1:]]) + "\n")
    done = _import(codex_sessions)
    assert done.returncode == 0 and "3 lines of codex logs not understood" in done.stderr, done.stderr
    with Session(engine) as db:
        log = db.exec(select(AgentLog).where(AgentLog.path == str(rollout))).one()
        assert log.skipped == 3 and log.cli_version == "0.171.0"
        assert set(log.skip_reasons) == {
            "unknown record type 'hologram_frame'",
            "not JSON",
            "token_usage_record without token counts",
        }
        assert (
            len(db.exec(select(ModelUsage).where(ModelUsage.session_id == log.session_id)).all()) == 2
        )  # the rest was read
    doctor = subprocess.run(
        [str(SWITCHBOARD), "doctor"],
        env={**environ_without_agent_homes(), "HOME": str(codex_sessions)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "3 lines of codex 0.171.0 not understood" in doctor.stdout + doctor.stderr
