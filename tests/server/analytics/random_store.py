"""A seeded, irregular store for checking that faster queries return the numbers of their plain definitions.

Odd cases on purpose: sessions without a start, an end or a cost; negative durations; pending tool calls
without a duration; tied durations; unpriced models; usage of sessions missing from ``session``; nested and
untyped subagents; fallbacks, consensus members and unpriced attempts among delegations; delegating sessions
with no main-agent usage (their first model stands) or no model at all (the default stands).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from server.store.models import AgentSession, Delegation, ModelUsage, SubagentRun, ToolCall
from tests.server.analytics.seed import T0

CLAUDE = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "mystery-model"]
TOOLS = ["Read", "Bash", "Edit", "Grep"]
ROUTES = [("groq", "llama-3.3-70b-versatile"), ("openai", "gpt-4o-mini"), ("local", "qwen2.5-coder")]
SPAN_MINUTES = 6 * 24 * 60


def _moment(rng: random.Random) -> Any:
    # Microseconds included: durations are compared to the microsecond.
    return T0 + timedelta(minutes=rng.uniform(0, SPAN_MINUTES), microseconds=rng.randrange(1_000_000))


def _session(rng: random.Random, index: int, rows: list[SQLModel]) -> str:
    sid = f"rs{index:03d}"
    start = None if index % 17 == 0 else _moment(rng)
    end = None if start is None or index % 5 == 0 else start + timedelta(seconds=rng.uniform(-30, 7200))
    last = None if index % 7 == 0 else (start or T0) + timedelta(seconds=rng.uniform(0, 9000), microseconds=3)
    models = [] if index % 11 == 0 else [rng.choice(CLAUDE)]
    rows.append(
        AgentSession(
            session_id=sid,
            started_at=start,
            ended_at=end,
            last_event_at=last,
            project=rng.choice(["api", "web"]),
            models=models,
            cost_usd=None if index % 6 == 0 else round(rng.uniform(0, 3), 4),
        )
    )
    return sid


def _tools(rng: random.Random, sid: str, rows: list[SQLModel]) -> None:
    for _ in range(rng.randint(0, 30)):
        status = rng.choice(["ok", "ok", "ok", "error", "pending"])
        duration = None if status == "pending" else float(rng.choice([rng.randint(1, 40) * 10, rng.uniform(1, 9e4)]))
        rows.append(
            ToolCall(
                session_id=sid,
                tool_use_id=f"tu-{sid}-{len(rows)}",
                tool_name=rng.choice(TOOLS),
                status=status,
                started_at=None if rng.random() < 0.03 else _moment(rng),
                duration_ms=duration,
            )
        )


def _usage(rng: random.Random, sid: str, rows: list[SQLModel], agents: list[str]) -> None:
    main_agent = rng.random() > 0.2  # else: no main-agent usage, savings falls back to the session's first model
    for n in range(rng.randint(0, 12)):
        model = rng.choice(CLAUDE)
        agent = None if main_agent and (not agents or rng.random() < 0.7) else rng.choice(agents or ["ghost"])
        rows.append(
            ModelUsage(
                session_id=sid,
                agent_id=agent,
                model=model,
                message_id=f"m-{sid}-{n}",
                request_id=f"q-{sid}-{n}",
                created_at=_moment(rng),
                input_tokens=rng.randint(0, 500),
                output_tokens=rng.choice([100, 200, rng.randint(0, 3000)]),  # ties between models happen
                cache_read_tokens=rng.randint(0, 90_000),
                cache_creation_tokens=rng.randint(0, 4000),
                cost_usd=None if model == "mystery-model" else round(rng.uniform(0, 0.3), 6),
            )
        )


def _subagents(rng: random.Random, sid: str, rows: list[SQLModel]) -> list[str]:
    agents: list[str] = []
    for n in range(rng.choice([0, 0, 1, 2, 4])):
        agent = f"a-{sid}-{n}"
        parent = rng.choice(agents) if agents and rng.random() < 0.5 else None
        if parent is None and rng.random() < 0.1:
            parent = "a-elsewhere"  # a parent the store never saw
        rows.append(
            SubagentRun(
                session_id=sid,
                agent_id=agent,
                agent_type=rng.choice(["Explore", "Plan", None]),
                parent_agent_id=parent,
                started_at=_moment(rng),
                duration_ms=None if rng.random() < 0.1 else float(rng.randint(1, 50) * 100),
                input_tokens=rng.randint(0, 5000),
                output_tokens=rng.randint(0, 3000),
                cache_read_tokens=rng.randint(0, 50_000),
                cache_creation_tokens=rng.randint(0, 5000),
                cost_usd=None if rng.random() < 0.15 else round(rng.uniform(0, 0.5), 5),
            )
        )
        agents.append(agent)
    return agents


def _delegations(rng: random.Random, sid: str | None, rows: list[SQLModel]) -> None:
    for r in range(rng.choice([0, 1, 2, 3])):
        request = f"r-{sid}-{r}-{len(rows)}"
        side = random.Random(request)
        consensus = f"c-{request}" if rng.random() < 0.1 else None
        created = _moment(rng)
        for attempt in range(3):
            provider, model = rng.choice(ROUTES)
            ok = attempt == 2 or rng.random() < 0.7
            priced = provider != "local" and rng.random() > 0.05
            # A few inputs past 200,000 tokens reach Claude's long-context price tier.
            tin = rng.randint(0, 60_000) if rng.random() < 0.95 else rng.randint(190_000, 260_000)
            rows.append(
                Delegation(
                    session_id=sid,
                    request_id=request,
                    attempt=attempt,
                    provider=provider,
                    model=model,
                    task_type=rng.choice(["code_fix", "research", None]),
                    status="ok" if ok else rng.choice(["timeout", "rate_limited"]),
                    input_tokens=tin,
                    output_tokens=rng.randint(0, 4000),
                    cached_tokens=rng.randint(0, tin + 100),  # may exceed the input: clamped by savings
                    cost_usd=round(tin * 1e-7, 8) if priced else None,
                    priced=priced,
                    latency_ms=float(rng.randint(1, 30) * 100),
                    consensus_run_id=consensus,
                    created_at=created + timedelta(seconds=attempt),
                    # Calls from before these were recorded have none (their savings are unmeasured).
                    # Drawn from their own generator: the rest of the store stays what it was.
                    claude_ask_tokens=side.choice([None, side.randint(10, 400)]) if ok else None,
                    claude_read_tokens=side.choice([None, side.randint(10, 4000), side.randint(9, 99)]) if ok else None,
                )
            )
            if ok:
                break


def build(engine: Engine, seed: int = 11, sessions: int = 60) -> None:
    """Fill ``engine``'s store with ``sessions`` random sessions and their events."""
    rng = random.Random(seed)
    rows: list[SQLModel] = []
    for index in range(sessions):
        sid = _session(rng, index, rows)
        agents = _subagents(rng, sid, rows)
        _tools(rng, sid, rows)
        _usage(rng, sid, rows, agents)
        _delegations(rng, sid, rows)
    _usage(rng, "orphan", rows, [])  # usage of a session the store has no row for
    _delegations(rng, None, rows)
    with Session(engine) as db:
        db.add_all(rows)
        db.commit()
