"""``switchboard import`` on a projects folder of realistic transcripts: first run, second run, peak memory.

Usage: .venv/bin/python bench/bench_import.py [SESSIONS] [TURNS]   (default 100 sessions of 250 turns)

Each session is a transcript of TURNS user lines (2 KB) and assistant lines with usage (1.5 KB), a cost-state
record and one subagent transcript. Prints MB/s and usage lines/s of the first import, the second import's
time (it must add nothing) as a ratio of the first, and the peak RSS of each.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SWITCHBOARD = REPO / ".venv" / "bin" / "switchboard"


def _assistant(session: str, turn: int, agent: str | None = None) -> dict[str, Any]:
    return {
        "type": "assistant",
        "isSidechain": agent is not None,
        **({"agentId": agent} if agent else {}),
        "requestId": f"{session}-{agent}-r{turn}",
        "timestamp": "2026-11-20T10:00:01.000Z",
        "message": {
            "id": f"{session}-{agent}-m{turn}",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "y" * 1500}],
            "usage": {"input_tokens": 1000, "output_tokens": 200, "cache_read_input_tokens": 5000},
        },
    }


def _write(root: Path, sessions: int, turns: int) -> tuple[int, int]:
    folder = root / "-work-app"
    folder.mkdir(parents=True)
    user = {"type": "user", "cwd": "/work/app", "timestamp": "2026-11-20T10:00:00.000Z", "message": "x" * 2000}
    lines = 0
    for number in range(sessions):
        session = f"bench-{number:05d}"
        with (folder / f"{session}.jsonl").open("w") as out:
            for turn in range(turns):
                out.write(json.dumps(user) + "\n" + json.dumps(_assistant(session, turn)) + "\n")
            out.write(json.dumps({"type": "cost-state", "totalCostUSD": 1.25}) + "\n")
        subagents = folder / session / "subagents"
        subagents.mkdir(parents=True)
        with (subagents / "agent-a1.jsonl").open("w") as out:
            out.writelines(json.dumps(_assistant(session, t, "a1")) + "\n" for t in range(turns // 10))
        lines += turns + turns // 10
    size = sum(p.stat().st_size for p in root.rglob("*.jsonl"))
    return size, lines


def _run(root: Path, state: Path) -> tuple[float, float]:
    env = {**os.environ, "SWITCHBOARD_HOME": str(state), "SWITCHBOARD_DATABASE_URL": ""}
    started = time.perf_counter()
    subprocess.run([str(SWITCHBOARD), "import", "--quiet", "--projects-dir", str(root)], env=env, check=True)
    wall = time.perf_counter() - started
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    sessions = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    turns = int(sys.argv[2]) if len(sys.argv) > 2 else 250
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        root, state = Path(tmp) / "projects", Path(tmp) / "state"
        size, lines = _write(root, sessions, turns)
        first, rss_first = _run(root, state)
        second, rss_second = _run(root, state)
    mb = size / 1e6
    print(f"transcripts: {sessions} sessions + {sessions} subagents, {mb:.0f} MB, {lines:,} usage lines")
    print(f"first import:  {first:6.1f} s  {mb / first:6.1f} MB/s  {lines / first:8,.0f} usage lines/s  ", end="")
    print(f"peak RSS {rss_first:.0f} MB")
    print(f"second import: {second:6.1f} s  ({second / first:.2f}x the first; adds nothing)  ", end="")
    print(f"peak RSS of either {rss_second:.0f} MB")


if __name__ == "__main__":
    main()
