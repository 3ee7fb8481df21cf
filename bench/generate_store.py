"""Build a SQLite store of about 1,000,000 events over 10,000 sessions, for bench_analytics.py.

Usage: .venv/bin/python bench/generate_store.py [PATH] [--sessions N] [--days D]
The store is migrated first (so the migration's indexes are the ones measured), then filled with Core
executemany inserts in batches. Sessions spread evenly over the last D days, ending now. Per session, on
average: 48 raw events, 25 tool calls, 5 prompts, 20 model usage rows, 1.5 subagent runs, 2 delegation
attempts (some fallbacks), plus provider events and a few consensus runs.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, insert
from sqlmodel import SQLModel

from server.store.database import make_engine, migrate
from server.store.models import (
    AgentSession,
    ConsensusRun,
    Delegation,
    ModelUsage,
    Prompt,
    ProviderEvent,
    RawEvent,
    SubagentRun,
    ToolCall,
)

TOOLS = [
    "Read",
    "Bash",
    "Edit",
    "Grep",
    "Glob",
    "Write",
    "WebFetch",
    "Agent",
    "mcp__switchboard__delegate",
    "TodoWrite",
]
TOOL_WEIGHTS = [30, 25, 15, 10, 6, 5, 3, 2, 2, 2]
CLAUDE = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"]
ROUTES = [
    ("groq", "llama-3.3-70b-versatile"),
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o"),
    ("anthropic", "claude-haiku-4-5"),
    ("local", "qwen2.5-coder"),
]
TASKS = ["code_fix", "research", "ui", "general", "cost_sensitive"]
ERRORS = ["timeout", "rate_limited", "server_error", "auth"]
EVENTS = ["PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "SubagentStart", "SubagentStop", "Notification"]
BATCH = 20_000


class Rows:
    """Buffers rows per table and flushes them with one executemany per batch."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pending: dict[type[SQLModel], list[dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, model: type[SQLModel], row: dict[str, Any]) -> None:
        rows = self.pending.setdefault(model, [])
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush(model)

    def flush(self, model: type[SQLModel] | None = None) -> None:
        for table in [model] if model else list(self.pending):
            rows = self.pending.get(table) or []
            if rows:
                with self.engine.begin() as conn:
                    conn.execute(insert(table), rows)  # pyright: ignore[reportArgumentType]
                name = str(table.__tablename__)
                self.counts[name] = self.counts.get(name, 0) + len(rows)
            self.pending[table] = []


def _ids() -> Iterator[int]:
    n = 0
    while True:
        n += 1
        yield n


def _session(rows: Rows, rng: random.Random, index: int, start: datetime, ids: Iterator[int]) -> None:
    sid = f"s{index:06d}"
    model = rng.choices(CLAUDE, [70, 15, 15])[0]
    minutes = rng.uniform(2, 120)
    end = start + timedelta(minutes=minutes)
    cost = round(rng.uniform(0.01, 5), 4) if rng.random() > 0.03 else None
    rows.add(
        AgentSession,
        {
            "session_id": sid,
            "started_at": start,
            "ended_at": end,
            "last_event_at": end,
            "cwd": f"/work/p{index % 25}",
            "project": f"p{index % 25}",
            "models": [model],
            "source": "startup",
            "cost_usd": cost,
            "cost_source": "claude_code" if cost is not None else None,
            "context_tokens": rng.randint(5_000, 190_000),
        },
    )

    def when() -> datetime:
        return start + timedelta(seconds=rng.uniform(0, minutes * 60))

    for _ in range(rng.randint(2, 8)):
        rows.add(
            Prompt,
            {
                "event_id": f"e{next(ids)}",
                "session_id": sid,
                "text": "please fix the failing test",
                "created_at": when(),
            },
        )
    agents = [f"a{next(ids)}" for _ in range(rng.choice([0, 1, 1, 2, 3]))]
    for i, agent in enumerate(agents):
        at = when()
        ms = rng.lognormvariate(10, 1)
        rows.add(
            SubagentRun,
            {
                "session_id": sid,
                "agent_id": agent,
                "agent_type": rng.choice(["Explore", "Plan", "general-purpose"]),
                "parent_agent_id": agents[i - 1] if i and rng.random() < 0.3 else None,
                "started_at": at,
                "stopped_at": at + timedelta(milliseconds=ms),
                "duration_ms": ms,
                "input_tokens": rng.randint(100, 5000),
                "output_tokens": rng.randint(50, 3000),
                "cache_read_tokens": rng.randint(0, 50_000),
                "cache_creation_tokens": rng.randint(0, 5000),
                "cost_usd": round(rng.uniform(0.001, 0.5), 5),
                "unpriced_models": [],
            },
        )
    for _ in range(rng.randint(10, 40)):
        ok = rng.random() > 0.05
        rows.add(
            ToolCall,
            {
                "session_id": sid,
                "tool_use_id": f"t{next(ids)}",
                "tool_name": rng.choices(TOOLS, TOOL_WEIGHTS)[0],
                "agent_id": rng.choice(agents) if agents and rng.random() < 0.2 else None,
                "status": "ok" if ok else "error",
                "started_at": when(),
                "duration_ms": rng.lognormvariate(5, 1.5),
                "input_summary": "{}",
                "error": None if ok else "exit 1",
            },
        )
    for _ in range(rng.randint(8, 32)):
        agent = rng.choice(agents) if agents and rng.random() < 0.25 else None
        rows.add(
            ModelUsage,
            {
                "session_id": sid,
                "agent_id": agent,
                "model": model if agent is None else "claude-haiku-4-5",
                "message_id": f"m{next(ids)}",
                "request_id": f"q{next(ids)}",
                "created_at": when(),
                "input_tokens": rng.randint(1, 50),
                "output_tokens": rng.randint(20, 2000),
                "cache_read_tokens": rng.randint(0, 150_000),
                "cache_creation_tokens": rng.randint(0, 5000),
                "cost_usd": round(rng.uniform(0.001, 0.2), 5),
            },
        )
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        request = f"r{next(ids)}"
        task = rng.choice(TASKS)
        for attempt in range(rng.choices([1, 2, 3], [85, 12, 3])[0]):
            provider, model_id = rng.choice(ROUTES)
            last = attempt == 2 or rng.random() < 0.9
            status = "ok" if last else rng.choice(ERRORS)
            priced = provider != "local"
            tin, tout = rng.randint(200, 20_000), rng.randint(50, 4000)
            rows.add(
                Delegation,
                {
                    "session_id": sid,
                    "request_id": request,
                    "attempt": attempt,
                    "provider": provider,
                    "model": model_id,
                    "task_type": task,
                    "status": status,
                    "input_tokens": tin,
                    "output_tokens": tout,
                    "cached_tokens": rng.randint(0, tin // 4),
                    "cost_usd": round(tin * 1e-7 + tout * 4e-7, 7) if priced else None,
                    "priced": priced,
                    "latency_ms": rng.lognormvariate(7, 0.8),
                    "cache_hit": rng.random() < 0.05,
                    "created_at": when(),
                },
            )
            if status == "ok":
                break
            rows.add(
                ProviderEvent,
                {
                    "session_id": sid,
                    "provider": provider,
                    "event": "error",
                    "error_class": status,
                    "created_at": when(),
                },
            )
            if rng.random() < 0.2:
                rows.add(
                    ProviderEvent,
                    {
                        "session_id": sid,
                        "provider": provider,
                        "event": "breaker_open",
                        "error_class": None,
                        "created_at": when(),
                    },
                )
    if rng.random() < 0.02:
        rows.add(
            ConsensusRun,
            {
                "id": f"c{next(ids)}",
                "session_id": sid,
                "strategy": "vote",
                "question": "which?",
                "agreement": rng.random(),
                "total_cost_usd": 0.01,
                "latency_ms": 2000.0,
                "created_at": when(),
            },
        )
    for _ in range(rng.randint(28, 68)):
        name = rng.choice(EVENTS) if rng.random() > 0.01 else "ContextPressure"
        payload = {
            "hook_event_name": name,
            "session_id": sid,
            "tool_name": "Read",
            "fill_ratio": 0.8,
            "context_tokens": 160_000,
        }
        rows.add(
            RawEvent,
            {
                "event_id": f"v{next(ids)}",
                "session_id": sid,
                "event_name": name,
                "received_at": when(),
                "ingested_at": end,
                "payload": payload,
            },
        )


def generate(path: Path, sessions: int = 10_000, days: float = 90, seed: int = 7) -> dict[str, int]:
    """Write the store at ``path`` (replaced if it exists); returns rows per table."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    rng = random.Random(seed)
    rows = Rows(engine)
    ids = _ids()
    now = datetime.now(UTC)
    step = timedelta(days=days) / sessions
    for i in range(sessions):
        _session(rows, rng, i, now - timedelta(days=days) + i * step, ids)
    rows.flush()
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return rows.counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", nargs="?", type=Path, default=Path("/tmp/switchboard-bench.db"))
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=90)
    args = parser.parse_args()
    started = time.perf_counter()
    counts = generate(args.path, args.sessions, args.days)
    elapsed = time.perf_counter() - started
    events = sum(n for name, n in counts.items() if name != "session")
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{name:15} {n:>9,}")
    print(f"{'events':15} {events:>9,} over {counts.get('session', 0):,} sessions in {elapsed:.1f} s -> {args.path}")


if __name__ == "__main__":
    main()
