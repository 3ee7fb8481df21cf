"""Drive the real Claude Code CLI offline against the fake Anthropic API (see ARCHITECTURE.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.anthropic_api import AnthropicFake

__all__ = [
    "CLAUDE",
    "REPO",
    "SWITCHBOARD",
    "ClaudeResult",
    "claude_env",
    "hook_timings_ms",
    "run_claude",
    "wait_until",
]

REPO = Path(__file__).resolve().parents[2]
CLAUDE = REPO / "tests" / "node_modules" / "@anthropic-ai" / "claude-code-linux-x64" / "claude"
SWITCHBOARD = REPO / ".venv" / "bin" / "switchboard"
_HOOK_LINE = re.compile(r"Hooks: (\S+) \[(.*)\] finished with status (\d+) \((\d+)ms\)")


@dataclass(frozen=True)
class ClaudeResult:
    """What one ``claude -p`` run produced."""

    returncode: int
    output: dict[str, Any]
    stderr: str
    debug_log: Path
    wall_s: float


def claude_env(home: Path, fake: AnthropicFake, **extra: str) -> dict[str, str]:
    """The environment of an offline run: a private HOME, the fake API, no telemetry, a bare PATH.

    PATH holds only system folders, so hooks prove they run from absolute paths.
    """
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "ANTHROPIC_BASE_URL": fake.base_url,
        "ANTHROPIC_API_KEY": "sk-ant-fake-e2e",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "ENABLE_TOOL_SEARCH": "false",
        # The launcher starts the switchboard service detached: let it go soon after the test's sessions.
        "SWITCHBOARD_SERVICE_IDLE_S": "20",
        **extra,
    }


def run_claude(
    prompt: str,
    cwd: Path,
    env: dict[str, str],
    workdir: Path,
    allowed_tools: Sequence[str] = ("Bash", "Agent", "mcp__switchboard__delegate"),
    settings: dict[str, Any] | None = None,
    mcp_config: dict[str, Any] | None = None,
    extra_args: Sequence[str] = (),
    timeout_s: float = 120,
) -> ClaudeResult:
    """Run ``claude -p PROMPT --output-format json`` in ``cwd``; files it needs are written to ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings_file = workdir / "extra-settings.json"
    settings_file.write_text(json.dumps(settings or {}), encoding="utf-8")
    mcp_file = workdir / "extra-mcp.json"
    mcp_file.write_text(json.dumps(mcp_config or {"mcpServers": {}}), encoding="utf-8")
    debug_log = workdir / f"debug-{time.monotonic_ns()}.log"
    argv = [str(CLAUDE), "-p", prompt, "--output-format", "json", "--allowedTools", *allowed_tools]
    argv += ["--mcp-config", str(mcp_file), "--settings", str(settings_file), "--debug-file", str(debug_log)]
    started = time.perf_counter()
    done = subprocess.run(
        [*argv, *extra_args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    wall = time.perf_counter() - started
    output: dict[str, Any] = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    return ClaudeResult(done.returncode, output, done.stderr, debug_log, wall)


def hook_timings_ms(debug_log: Path) -> list[tuple[str, str, int, int]]:
    """``(event, command, status, ms)`` for every hook Claude Code's debug log says finished."""
    text = debug_log.read_text(encoding="utf-8", errors="replace") if debug_log.exists() else ""
    return [(m[1], m[2], int(m[3]), int(m[4])) for m in _HOOK_LINE.finditer(text)]


def wait_until(predicate: Any, timeout_s: float, what: str) -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout_s`` saying what did not happen."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def run_switchboard(*args: str, env: dict[str, str] | None = None, timeout_s: float = 120) -> str:
    """Run the installed ``switchboard`` console script; returns stdout, raises on a non-zero exit."""
    done = subprocess.run(
        [str(SWITCHBOARD), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"switchboard {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout
