"""Time every analytics query on a generated store and print p50 against the 100 ms target, side by side.

Usage: .venv/bin/python bench/bench_analytics.py [PATH] [--runs N]
PATH defaults to /tmp/switchboard-bench.db; it is generated (bench/generate_store.py: ~1,000,000 events over
10,000 sessions across 90 days) when missing. Each query runs over the default window (last 7 days), the last 30
days (the dashboard's longest) and all time; the first run warms the caches and is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from bench.generate_store import generate
from server.analytics import (
    Window,
    build_report,
    context_pressure,
    delegation_stats,
    find_patterns,
    provider_health,
    recent_sessions,
    savings,
    session_detail,
    sessions_summary,
    subagent_stats,
    tool_stats,
)
from server.analytics.render import render_report
from server.store.database import make_engine, migrate
from server.store.models import ToolCall

TARGET_MS = 100.0


def _busiest_session(db: Session) -> str:
    calls = func.count().label("calls")
    statement = select(ToolCall.session_id, calls).group_by(ToolCall.session_id)
    return db.exec(statement.order_by(calls.desc()).limit(1)).one()[0]


Query = Callable[[Session, Window], Any]


def _queries(session_id: str) -> dict[str, Query]:
    return {
        "sessions_summary": sessions_summary,
        "recent_sessions(20)": lambda db, w: recent_sessions(db, w, limit=20),
        "session_detail": lambda db, w: session_detail(db, session_id),
        "tool_stats": tool_stats,
        "subagent_stats": subagent_stats,
        "delegation_stats": delegation_stats,
        "provider_health": lambda db, w: provider_health(db, w),
        "savings": lambda db, w: savings(db, w),
        "patterns": lambda db, w: find_patterns(delegation_stats(db, w), tool_stats(db, w)),
        "context_pressure": lambda db, w: context_pressure(db, w),
        "stats overview (all)": lambda db, w: render_report(build_report(db, w, session_limit=3), limit=3),
    }


def _in_session(engine: Engine, query: Query, window: Window) -> Callable[[], Any]:
    """One run as the stats tool and the dashboard make it: a new Session per request."""

    def run() -> Any:
        with Session(engine) as db:
            return query(db, window)

    return run


def _times_ms(run: Callable[[], Any], runs: int) -> list[float]:
    run()
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return times


HOOK = Path(__file__).resolve().parents[1] / "hooks" / "context_pressure.py"


def _transcript(path: Path, megabytes: int) -> Path:
    """A transcript of about ``megabytes`` MB whose last line carries the usage the hook looks for."""
    filler = json.dumps({"type": "user", "message": {"content": "x" * 2000}}) + "\n"
    usage = {"input_tokens": 10, "cache_read_input_tokens": 150_000, "cache_creation_input_tokens": 90}
    last = json.dumps({"type": "assistant", "message": {"id": "m", "usage": usage}}) + "\n"
    with path.open("w") as f:
        f.write(filler * (megabytes * 1_000_000 // len(filler)))
        f.write(last)
    return path


def _bench_hook(runs: int) -> None:
    """The context_pressure hook against a bare ``python3 -S`` start, on a large transcript."""
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        transcript = _transcript(home / "t.jsonl", 50)
        payload = json.dumps({"session_id": "s", "transcript_path": str(transcript), "cwd": folder})
        env = {"SWITCHBOARD_HOME": str(home), "HOME": folder, "PATH": os.environ.get("PATH", "")}
        python = sys.executable

        def hook() -> None:
            subprocess.run(
                [python, "-S", str(HOOK)],
                input=payload,
                text=True,
                env=env,
                check=True,
                capture_output=True,
                cwd=folder,
            )

        def bare() -> None:
            subprocess.run([python, "-S", "-c", "pass"], text=True, env=env, check=True, capture_output=True)

        hook_ms = statistics.median(_times_ms(hook, runs))
        bare_ms = statistics.median(_times_ms(bare, runs))
    print(
        f"context_pressure hook on a 50 MB transcript: p50 {hook_ms:.1f} ms; python3 -S -c pass: "
        f"{bare_ms:.1f} ms; ratio {hook_ms / bare_ms:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", nargs="?", type=Path, default=Path("/tmp/switchboard-bench.db"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--hook-only", action="store_true", help="only time the context_pressure hook")
    args = parser.parse_args()
    _bench_hook(max(args.runs, 11))
    if args.hook_only:
        return
    if not args.path.exists():
        print(f"generating {args.path} ...", flush=True)
        generate(args.path)
    engine = make_engine(f"sqlite:///{args.path}")
    migrate(engine)  # a store made before the index migration gets it here
    windows = {"7 days": Window.last_days(7), "30 days": Window.last_days(30), "all time": Window()}
    size_mb = args.path.stat().st_size / 1e6
    print(f"store: {args.path} ({size_mb:.0f} MB), p50 of {args.runs} runs, target {TARGET_MS:.0f} ms")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"{'query':24} {'window':9} {'p50 ms':>8} {'min ms':>8} {'p50/target':>10}")
    with Session(engine) as db:
        busiest = _busiest_session(db)
    for name, query in _queries(busiest).items():
        for label, window in windows.items():
            if name == "session_detail" and label != "7 days":
                continue
            times = _times_ms(_in_session(engine, query, window), args.runs)
            p50 = statistics.median(times)
            flag = "" if p50 <= TARGET_MS else "  over target"
            row = f"{name:24} {label:9} {p50:8.1f} {min(times):8.1f} {p50 / TARGET_MS:9.2f}x{flag}"
            print(row, flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
