"""The status line in the real Claude Code's terminal UI: ``install --statusline``, the service up and down."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.install.plan import statusline_entry
from tests.e2e.claude import claude_env, run_switchboard, wait_until
from tests.e2e.tty import Terminal, trust_project
from tests.fakes.anthropic_api import AnthropicFake, Turn, Usage, serve_anthropic

pytestmark = pytest.mark.claude

KEY = "sk-ant-fake-e2e"
SESSION_COST = re.compile(r"(-?\$\d+\.\d\d) session")


@pytest.fixture
def api() -> Iterator[AnthropicFake]:
    # Enough tokens that the session's cost shows in cents.
    with serve_anthropic(AnthropicFake(default=Turn(text="hello there", usage=Usage(50_000, 2_000)))) as fake:
        yield fake


def _folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    user, project, state = tmp_path / "user", tmp_path / "proj", tmp_path / "state"
    for folder in (user, project, state):
        folder.mkdir()
    trust_project(user, project, KEY)
    return user, project, state


def _last_cost(user: Path, project: Path) -> float:
    """``total_cost_usd`` as Claude Code saved it on exit (``lastCost``: the same figure)."""
    return json.loads((user / ".claude.json").read_text())["projects"][str(project.resolve())]["lastCost"]


def _converse(terminal: Terminal, prompt: str, replies: int) -> None:
    terminal.wait_for(r"session", 60)  # the status line is drawn: the prompt takes input
    terminal.type(prompt)
    terminal.wait_for(r"hello there", 60, count=replies)


def test_with_the_service_up_the_line_shows_the_sessions_cost_as_claude_code_counts_it_and_today(
    api: AnthropicFake, tmp_path: Path
) -> None:
    user, project, state = _folders(tmp_path)
    env = claude_env(user, api, SWITCHBOARD_HOME=str(state))
    run_switchboard("install", "--user", "--statusline", env={"HOME": str(user), "SWITCHBOARD_HOME": str(state)})
    terminal = Terminal(project, env, tmp_path / "debug.log")
    try:
        _converse(terminal, "first", 1)
        # The session's MCP launcher started the service; it writes the summary once warm.
        wait_until((state / "service" / "statusline.json").exists, 60, "the service's status line summary")
        _converse(terminal, "second", 2)
        line = terminal.wait_for(r"\$\d+\.\d\d session · \$\d+\.\d\d today.*ctx \d+%", 30)
        assert "not running" not in line.group(0)
        terminal.pump(2)  # the line refreshes shortly after the reply
        shown = SESSION_COST.findall(terminal.screen)[-1]
    finally:
        terminal.close()
        run_switchboard("service", "stop", env={"SWITCHBOARD_HOME": str(state)})
    cost = _last_cost(user, project)
    assert cost > 0.01 and shown == f"${cost:.2f}"
    assert (
        "StatusLine [" in (tmp_path / "debug.log").read_text()
        and "completed with status 0" in (tmp_path / "debug.log").read_text()
    )


def test_with_the_service_down_the_line_still_shows_the_cost_and_says_the_service_is_not_running(
    api: AnthropicFake, tmp_path: Path
) -> None:
    user, project, state = _folders(tmp_path)
    (user / ".claude").mkdir()
    (user / ".claude" / "settings.json").write_text(json.dumps({"statusLine": statusline_entry(portable=False)}))
    terminal = Terminal(project, claude_env(user, api, SWITCHBOARD_HOME=str(state)), tmp_path / "debug.log")
    try:
        _converse(terminal, "first", 1)
        terminal.wait_for(r"\$\d+\.\d\d session · ctx \d+% · switchboard service not running", 30)
        terminal.pump(2)
        shown = SESSION_COST.findall(terminal.screen)[-1]
        assert "Traceback" not in terminal.screen
    finally:
        terminal.close()
    assert shown == f"${_last_cost(user, project):.2f}"
