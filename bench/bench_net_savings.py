"""Net savings checked against Claude Code's own cost figures: one task, with and without a delegate call.

Two offline sessions of the real Claude Code against the fake Anthropic API, whose usage here is counted from
what each request carries (input: the request body's characters / 3; output: the reply's), so Claude Code's
``total_cost_usd`` moves with what the session really sent and read:

- **without**: Claude writes the answer itself.
- **with**: Claude calls ``mcp__switchboard__delegate`` (``switchboard serve`` on a fake provider that returns the
  same answer), reads the result, and ends.

Printed: both sessions' cost of record, Claude Code's own difference, and Switchboard's figures for the delegate
call (counterfactual, actual, Claude overhead, net saving) from ``server.analytics.savings`` on the session's
store, with the session's transcript imported (``switchboard import``), so the overhead holds the extra request
that read the result (its whole input, context re-read from the cache included). What is left between the two
figures (that request's own output) is printed too.

Run: .venv/bin/python bench/bench_net_savings.py [--answer-chars 1500]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session, select

from server.analytics import Window, savings
from server.store.database import make_engine
from server.store.importer import import_transcripts
from server.store.models import Delegation
from tests.e2e.claude import SWITCHBOARD, claude_env, run_claude
from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, Usage, serve_anthropic
from tests.fakes.openai_api import FakeOpenAI, Reply

TOOL = "mcp__switchboard__delegate"
TASK = "Write a Python function that parses ISO 8601 durations like P1DT2H into seconds, with a docstring."


@dataclass
class Measured(Conversation):
    """A scripted conversation whose usage is counted from each request and reply, 3 characters a token, cached
    as the real API caches a conversation: what the previous request sent is read from the prompt cache, the rest
    is written to it."""

    seen: int = 0

    def reply(self, body: dict[str, Any]) -> Turn:
        turn = super().reply(body)
        sent = len(json.dumps({k: body.get(k) for k in ("system", "tools", "messages")})) // 3
        written = len(json.dumps(turn.content())) // 3
        read = min(self.seen, sent)
        self.seen = sent
        usage = Usage(0, written, read, cache_creation_input_tokens=sent - read)
        return Turn(turn.text, turn.tool_uses, usage)


def answer_text(chars: int) -> str:
    body = 'def seconds(text: str) -> int:\n    """Seconds in an ISO 8601 duration."""\n'
    return (body + "    # step\n" * (chars // 11))[:chars]


def session(root: Path, marker: str, turns: list[Turn], answer: str) -> tuple[float, Path, Path]:
    (root / "user").mkdir(parents=True)
    (root / "proj").mkdir()
    with FakeOpenAI(models=["m"]) as provider, serve_anthropic(AnthropicFake([Measured(marker, turns)])) as api:
        provider.script("m", Reply(text=answer, input_tokens=len(TASK) // 3, output_tokens=len(answer) // 3))
        config = root / "switchboard.toml"
        config.write_text(
            f'[providers.p]\nkind = "openai-compatible"\nbase_url = "{provider.base_url}"\nmodels = ["m"]\n'
            "[providers.p.prices.m]\ninput_per_mtok = 0.1\noutput_per_mtok = 0.4\n"
            '[routing]\ndefault = ["p:m"]\n',
            encoding="utf-8",
        )
        serve = f"{shlex.quote(str(SWITCHBOARD))} serve --no-ingest"
        mcp = {"mcpServers": {"switchboard": {"command": "/bin/sh", "args": ["-c", serve]}}}
        env = claude_env(
            root / "user",
            api,
            SWITCHBOARD_HOME=str(root / "state"),
            SWITCHBOARD_CONFIG=str(config),
            MCP_CONNECTION_NONBLOCKING="false",
        )
        result = run_claude(f"{marker} {TASK}", root / "proj", env, root / "run", allowed_tools=(TOOL,), mcp_config=mcp)
    if result.returncode != 0:
        raise SystemExit(f"claude exited {result.returncode}: {result.stderr[-2000:]}")
    projects = root / "user" / ".claude" / "projects"
    return float(result.output["total_cost_usd"]), root / "state" / "switchboard.db", projects


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--answer-chars", type=int, default=1500)
    args = parser.parse_args()
    answer = answer_text(args.answer_chars)
    with tempfile.TemporaryDirectory() as tmp:
        without, _, _ = session(Path(tmp) / "without", "NET-WITHOUT", [Turn(text=answer)], answer)
        delegate = Turn(tool_uses=(ToolUse(TOOL, {"task": TASK}),))
        with_cost, db_path, projects = session(Path(tmp) / "with", "NET-WITH", [delegate, Turn(text="done")], answer)
        engine = make_engine(f"sqlite:///{db_path}")
        try:
            import_transcripts(engine, projects)  # the requests' usage, as `switchboard import` reads it
            with Session(engine) as db:
                found = savings(db, Window())
                row = db.exec(select(Delegation).where(Delegation.status == "ok")).one()
        finally:
            engine.dispose()
    claude_saving = without - with_cost - found.actual_usd
    difference = with_cost - without
    print(f"Claude Code, without delegate: ${without:.6f}; with: ${with_cost:.6f}; difference ${difference:+.6f}")
    asked, read = row.claude_ask_tokens, row.claude_read_tokens
    print(f"Delegate call: asked {asked} tokens, read {read} tokens (3 chars a token)")
    print(
        f"Switchboard: counterfactual ${found.counterfactual_usd:.6f} - actual ${found.actual_usd:.6f} - Claude "
        f"overhead ${found.claude_overhead_usd:.6f} = saved ${found.saved_usd:+.6f}"
    )
    print(f"Claude Code's own figures: saved = without - with - actual = ${claude_saving:+.6f}")
    print(f"Side by side: Switchboard ${found.saved_usd:+.6f} | Claude Code ${claude_saving:+.6f}")
    print(f"Claude model priced (from the imported transcript): {found.claude_models}")
    print(f"Side by side, Switchboard - Claude Code: ${found.saved_usd - claude_saving:+.6f} (estimates: the answer's")
    print("  tokens as the provider counted them, the ask at 3 characters a token; the extra request's own output")
    print("  is not counted)")


if __name__ == "__main__":
    main()
