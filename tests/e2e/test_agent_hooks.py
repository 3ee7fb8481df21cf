"""``switchboard install --codex`` / ``--gemini``: the real CLIs' hooks spool every event, ingest makes the rows, and
``uninstall`` gives the files back as they were."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.store.models import AgentSession, ModelUsage, Prompt, RawEvent, ToolCall
from tests.e2e.agent_clis import CODEX, GEMINI, codex_home, gemini_home, run_codex, run_gemini
from tests.e2e.claude import SWITCHBOARD
from tests.e2e.test_agent_logs import _codex_script, _gemini_script
from tests.fakes.gemini_api import FakeGemini
from tests.fakes.openai_responses import FakeResponses

pytestmark = [
    pytest.mark.agent_cli,
    pytest.mark.skipif(not (CODEX.exists() and GEMINI.exists()), reason="run: cd tests && npm ci"),
]


def _switchboard(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "CODEX_HOME": str(home / ".codex")}
    return subprocess.run([str(SWITCHBOARD), *args], env=env, capture_output=True, text=True, timeout=120)


def _state_env() -> dict[str, str]:
    """What a hook needs to find this test's spool and store (the CLIs hand their environment to hooks)."""
    return {k: os.environ[k] for k in ("SWITCHBOARD_HOME", "SWITCHBOARD_DATABASE_URL") if k in os.environ}


def _check_rows(engine: Engine, agent: str, prompt: str, tool: str) -> None:
    with Session(engine) as db:
        session = db.exec(select(AgentSession)).one()
        assert (session.agent, session.cost_source) == (agent, "estimated")
        assert session.user and session.host and session.project == "work"
        assert [p.text for p in db.exec(select(Prompt))] == [prompt]
        assert [t.tool_name for t in db.exec(select(ToolCall))] == [tool]
        assert len(db.exec(select(ModelUsage)).all()) == 2
        events = {r.event_name for r in db.exec(select(RawEvent))}
        assert {"SessionStart", "SessionEnd"} <= events
        assert all(r.event_id.endswith(f".{agent}") for r in db.exec(select(RawEvent)))


def test_codex_hooks_capture_a_real_session_and_uninstall_gives_hooks_json_back(engine: Engine, tmp_path: Path) -> None:
    home = tmp_path / "u"
    work = home / "work"
    work.mkdir(parents=True)
    mine = {"hooks": {"Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "true"}]}]}}
    with FakeResponses(_codex_script) as fake:
        hooks_file = codex_home(home, fake) / "hooks.json"
        hooks_file.write_text(json.dumps(mine, indent=2) + "\n")
        before = hooks_file.read_text()
        installed = _switchboard(home, "install", "--codex")
        assert installed.returncode == 0, installed.stderr
        assert "--agent codex" in hooks_file.read_text() and '"command": "true"' in hooks_file.read_text()
        assert _switchboard(home, "install", "--codex").stdout.startswith("already installed")
        done = run_codex(home, work, "run echo hi", trust_hooks=True, extra_env=_state_env())
        assert done.returncode == 0, done.stderr[-2000:]
    ingest = _switchboard(home, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    _check_rows(engine, "codex", "run echo hi", "exec_command")
    removed = _switchboard(home, "uninstall", "--codex")
    assert removed.returncode == 0 and hooks_file.read_text() == before, removed.stderr


def test_gemini_hooks_capture_a_real_session_and_uninstall_gives_settings_back(engine: Engine, tmp_path: Path) -> None:
    home = tmp_path / "u"
    work = home / "work"
    work.mkdir(parents=True)
    settings = gemini_home(home) / "settings.json"
    before = settings.read_text()
    installed = _switchboard(home, "install", "--gemini")
    assert installed.returncode == 0, installed.stderr
    assert "--agent gemini" in settings.read_text()
    with FakeGemini(_gemini_script) as fake:
        done = run_gemini(home, work, fake, "say hi and run echo", extra_env=_state_env())
        assert done.returncode == 0, done.stderr[-2000:]
    ingest = _switchboard(home, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    _check_rows(engine, "gemini", "say hi and run echo", "run_shell_command")
    removed = _switchboard(home, "uninstall", "--gemini")
    # Gemini CLI rewrites its settings file (indented) when it runs: the content is what we found.
    assert removed.returncode == 0 and json.loads(settings.read_text()) == json.loads(before), removed.stderr
