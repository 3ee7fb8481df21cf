"""Codex CLI and Gemini CLI logs: ``switchboard import`` beside ``ccusage`` on the same folders, time and totals.

Usage: .venv/bin/python bench/bench_agents.py [COPIES]   (default 200)

Runs the real CLIs (tests/node_modules) a few times against the loopback fakes to get real log files (a Codex
session that runs a command, one that answers; a Gemini CLI session with thinking tokens that runs a command),
then copies each file COPIES times under new session ids. Times ``switchboard import`` (first and second run)
and ``ccusage codex session`` / ``ccusage gemini session`` (``--json --offline``) on the same homes, and prints
both totals side by side with a line saying, where they differ, which is right and why.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.agent_clis import codex_home, gemini_home, run_codex, run_gemini  # noqa: E402
from tests.e2e.test_agent_logs import _codex_script, _gemini_script  # noqa: E402
from tests.fakes.gemini_api import FakeGemini  # noqa: E402
from tests.fakes.openai_responses import FakeResponses  # noqa: E402

SWITCHBOARD = REPO / ".venv" / "bin" / "switchboard"
CCUSAGE = REPO / "bench" / "node_modules" / ".bin" / "ccusage"
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _real_logs(home: Path) -> None:
    work = home / "work"
    work.mkdir(parents=True)
    with FakeResponses(_codex_script) as fake:
        codex_home(home, fake)
        for prompt in ("run echo hi", "say done"):
            assert run_codex(home, work, prompt).returncode == 0
    gemini_home(home)
    with FakeGemini(_gemini_script) as fake:
        assert run_gemini(home, work, fake, "say hi and run echo").returncode == 0


def _copy(files: list[Path], copies: int) -> None:
    """Each file again ``copies`` times, every session id in it (and in its name) replaced by a new one."""
    for path in files:
        data = path.read_bytes()
        ids = set(_UUID.findall(data + path.name.encode()))
        short = path.stem.rsplit("-", 1)[-1].encode()  # Gemini names files by the id's first 8 characters
        for n in range(copies):
            fresh = {old: str(uuid.uuid4()).encode() for old in ids}
            out = data
            for old, new in fresh.items():
                out = out.replace(old, new)
            name = path.name.encode()
            for old, new in fresh.items():
                name = name.replace(old, new)
            if path.suffix == ".jsonl" and b"rollout-" not in name:
                name = name.replace(short, f"{n:08x}".encode())
            (path.parent / name.decode()).write_bytes(out)


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {done.stderr[-2000:]}")
    return elapsed, done.stdout


def _ours(db: Path, agent: str) -> dict[str, Any]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT s.session_id), sum(u.input_tokens), sum(u.cache_read_tokens), sum(u.output_tokens),"
            " sum(u.cost_usd) FROM session s JOIN model_usage u ON u.session_id = s.session_id WHERE s.agent = ?",
            (agent,),
        ).fetchone()
    return dict(zip(("sessions", "input", "cache_read", "output", "cost_usd"), row, strict=True))


def _theirs(stdout: str, agent: str) -> dict[str, Any]:
    data = json.loads(stdout)
    totals = data["totals"]
    cost = totals.get("costUSD", totals.get("totalCost"))
    return {
        "sessions": len(data["sessions"]),
        "input": totals["inputTokens"],
        "cache_read": totals["cacheReadTokens"],
        "output": totals["outputTokens"],
        "cost_usd": cost,
    }


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    root = Path(tempfile.mkdtemp(prefix="bench-agents-"))
    home = root / "home"
    _real_logs(home)
    files = sorted((home / ".codex" / "sessions").glob("**/*.jsonl")) + sorted((home / ".gemini").glob("tmp/*/chats/*"))
    _copy(files, copies)
    size = sum(
        p.stat().st_size
        for p in [*(home / ".codex").glob("sessions/**/*.jsonl"), *(home / ".gemini").glob("tmp/*/chats/*")]
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "CODEX_HOME": str(home / ".codex"),
        "SWITCHBOARD_HOME": str(root / "state"),
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{root / 'state' / 'switchboard.db'}",
    }
    first, _ = _timed([str(SWITCHBOARD), "import", "-q"], env)
    second, _ = _timed([str(SWITCHBOARD), "import", "-q"], env)
    codex_s, codex_out = _timed([str(CCUSAGE), "codex", "session", "--json", "--offline"], env)
    gemini_s, gemini_out = _timed([str(CCUSAGE), "gemini", "session", "--json", "--offline"], env)
    print(f"{len(files) * (copies + 1)} log files, {size / 1e6:.1f} MB (real CLI logs, copied under new ids)")
    print(f"switchboard import: first {first:.2f} s, second {second:.2f} s ({second / first:.0%} of the first)")
    print(f"ccusage codex session: {codex_s:.2f} s; ccusage gemini session: {gemini_s:.2f} s")
    print(f"first import / ccusage (both agents): {first / (codex_s + gemini_s):.2f}x")
    db = root / "state" / "switchboard.db"
    for agent, theirs in (("codex", _theirs(codex_out, "codex")), ("gemini", _theirs(gemini_out, "gemini"))):
        ours = _ours(db, agent)
        print(f"\n{agent:8} {'switchboard':>14} {'ccusage':>14}")
        for key in ("sessions", "input", "cache_read", "output", "cost_usd"):
            a, b = ours[key], theirs[key]
            shown = (f"{a:14.6f} {b:14.6f}") if key == "cost_usd" else f"{a:14} {b:14}"
            print(f"{key:8} {shown}{'' if abs((a or 0) - (b or 0)) < 1e-9 else '   differ'}")
    print(
        "\nWhere gemini's output differs: each Gemini CLI message logs tokens.thoughts beside tokens.output (the "
        "API's thoughtsTokenCount, outside candidatesTokenCount). Google bills thinking tokens at the output rate. "
        "Both tools price them (the costs agree), but ccusage 20.0.24 leaves them out of its output column (it adds "
        "them to totalTokens only); switchboard counts them as output, the way they are billed. Codex logs reasoning "
        "inside output_tokens already, so there both agree. Input is the uncached part (the logs' input includes "
        "cache reads; both subtract them)."
    )


if __name__ == "__main__":
    main()
