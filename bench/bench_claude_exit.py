"""How the real Claude Code ends ``switchboard serve`` when a session ends, read from its own debug log.

At exit Claude Code sends its stdio MCP servers SIGINT, and SIGTERM when one has not exited ~100 ms later
(debug lines ``Sending SIGINT to MCP server process``, ``SIGINT failed, sending SIGTERM``, ``connection closed``).
Each run is a short offline session (one Bash tool call, against the fake Anthropic API on loopback) with
switchboard as an MCP server. Printed: how many sessions needed SIGTERM, and the time from SIGINT to the closed
connection, for this checkout and, with ``--src``, another one (e.g. an older commit) side by side.

Run: .venv/bin/python bench/bench_claude_exit.py [--runs 5] [--src DIR]
Target: no SIGTERM; SIGINT to closed well under 100 ms.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.claude import REPO, claude_env, run_claude
from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, serve_anthropic

SESSION = Conversation(
    "BENCH-EXIT", [Turn(tool_uses=(ToolUse("Bash", {"command": "true", "description": "nothing"}),)), Turn(text="ok")]
)
_LINE = re.compile(r"^(\S+) \[DEBUG\] MCP server \"switchboard\": (.*)$")


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def one_session(src: str) -> tuple[bool, float]:
    """(whether SIGTERM was needed, seconds from SIGINT to the closed connection) for one session."""
    with tempfile.TemporaryDirectory() as tmp, serve_anthropic(AnthropicFake([SESSION])) as fake:
        root = Path(tmp)
        (root / "user").mkdir()
        (root / "proj").mkdir()
        state = str(root / "state")
        env = claude_env(root / "user", fake, SWITCHBOARD_HOME=state, MCP_CONNECTION_NONBLOCKING="false")
        server = {
            "command": sys.executable,
            "args": ["-m", "server", "serve"],
            "env": {"PYTHONPATH": src, "SWITCHBOARD_HOME": state},
        }
        result = run_claude(
            "BENCH-EXIT go",
            root / "proj",
            env,
            root / "run",
            allowed_tools=("Bash",),
            mcp_config={"mcpServers": {"switchboard": server}},
        )
        assert result.returncode == 0, result.stderr
        events = [m.groups() for m in map(_LINE.match, result.debug_log.read_text().splitlines()) if m]
    sigint = next(_at(t) for t, text in events if text.startswith("Sending SIGINT"))
    closed = next(_at(t) for t, text in events if "connection closed" in text)
    return any("sending SIGTERM" in text for _t, text in events), (closed - sigint).total_seconds()


def main(runs: int, src: str | None) -> None:
    checkouts = [("this checkout", str(REPO))] + ([("--src " + src, src)] if src else [])
    results: dict[str, list[tuple[bool, float]]] = {name: [] for name, _ in checkouts}
    for _ in range(runs):  # interleaved, so that the shared machine's load weighs on both alike
        for name, path in checkouts:
            results[name].append(one_session(path))
    print(f"runs: {runs} Claude Code sessions each")
    print(f"{'':40}{'SIGTERM needed':>16}{'SIGINT to closed, median ms':>30}{'max ms':>8}")
    for name, outcomes in results.items():
        waits = [wait * 1000 for _term, wait in outcomes]
        terms = sum(term for term, _wait in outcomes)
        print(f"{name:40}{f'{terms} of {runs}':>16}{statistics.median(waits):30.0f}{max(waits):8.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--src", help="also run `python -m server serve` from this checkout (e.g. an older commit)")
    args = parser.parse_args()
    main(args.runs, args.src)
