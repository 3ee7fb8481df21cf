"""A small, realistic store for the dashboard tests: two sessions with prompts, tool calls, nested subagents,
model usage, delegations (one with a fallback), a consensus run and provider breaker events.

The first session's prompt carries an XSS payload; the page must show it as text and run nothing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from server.store.models import (
    AgentSession,
    ConsensusRun,
    Delegation,
    ModelUsage,
    Prompt,
    ProviderEvent,
    RawEvent,
    StoredOutput,
    SubagentRun,
    Thread,
    ThreadMessage,
    ToolCall,
    utcnow,
)

SESSION_A = "a1b2c3d4-0000-4000-8000-000000000001"
SESSION_B = "b5e6f7a8-0000-4000-8000-000000000002"
XSS_PROMPT = "<script>window.__pwned=1</script> fix the <b>login</b> bug"
ANSWER_TEXT = "Use a constant-time comparison <img src=x onerror=window.__pwned=2>."
TASK_TEXT = "Review auth.py <svg onload=window.__pwned=3>"


def seed_store(engine: Engine) -> None:
    """Insert the sample rows (times relative to now, so 'today' and '7 days' windows hold them)."""
    now = utcnow()
    t0 = now - timedelta(hours=2)
    with Session(engine) as db:
        db.add(
            AgentSession(
                session_id=SESSION_A,
                started_at=t0,
                last_event_at=t0 + timedelta(minutes=30),
                project="webapp",
                cwd="/src/webapp",
                models=["claude-sonnet-4-5"],
                cost_usd=1.25,
                cost_source="claude_code",
            )
        )
        db.add(
            AgentSession(
                session_id=SESSION_B,
                started_at=now - timedelta(days=3),
                ended_at=now - timedelta(days=3) + timedelta(minutes=10),
                project="cli-tool",
                models=["claude-opus-4-1"],
                cost_usd=0.40,
                cost_source="claude_code",
            )
        )
        db.add(Prompt(event_id="ev-p1", session_id=SESSION_A, text=XSS_PROMPT, created_at=t0))
        db.add(
            Prompt(event_id="ev-p2", session_id=SESSION_B, text="add a --json flag", created_at=now - timedelta(days=3))
        )
        for i, (tool, status) in enumerate([("Bash", "ok"), ("Read", "ok"), ("Edit", "error"), ("Bash", "ok")]):
            db.add(
                ToolCall(
                    session_id=SESSION_A,
                    tool_use_id=f"tu-{i}",
                    tool_name=tool,
                    status=status,
                    started_at=t0 + timedelta(minutes=1 + i),
                    ended_at=t0 + timedelta(minutes=1 + i, seconds=2),
                    duration_ms=200.0 * (i + 1),
                    input_summary=f"{tool} input {i}",
                    error="old_string not found" if status == "error" else None,
                )
            )
        db.add(
            SubagentRun(
                session_id=SESSION_A,
                agent_id="agent-explore",
                agent_type="Explore",
                started_at=t0 + timedelta(minutes=5),
                stopped_at=t0 + timedelta(minutes=9),
                duration_ms=240_000,
                input_tokens=12_000,
                output_tokens=900,
                cost_usd=0.21,
            )
        )
        db.add(
            SubagentRun(
                session_id=SESSION_A,
                agent_id="agent-nested",
                agent_type="code-reviewer",
                parent_agent_id="agent-explore",
                started_at=t0 + timedelta(minutes=6),
                stopped_at=t0 + timedelta(minutes=8),
                duration_ms=120_000,
                input_tokens=3_000,
                output_tokens=400,
                cost_usd=0.05,
            )
        )
        db.add(
            ToolCall(
                session_id=SESSION_A,
                tool_use_id="tu-sub",
                tool_name="Grep",
                agent_id="agent-nested",
                status="ok",
                started_at=t0 + timedelta(minutes=7),
                duration_ms=35.0,
            )
        )
        db.add(
            ModelUsage(
                session_id=SESSION_A,
                model="claude-sonnet-4-5",
                message_id="msg-1",
                request_id="req-1",
                created_at=t0 + timedelta(minutes=1),
                input_tokens=20_000,
                output_tokens=1_500,
                cost_usd=0.0825,
            )
        )
        _seed_delegations(db)
        db.add(RawEvent(event_id="ev-raw-1", session_id=SESSION_A, event_name="SessionStart", received_at=t0))
        db.commit()


def _seed_delegations(db: Session) -> None:
    start = utcnow() - timedelta(hours=1)
    db.add(StoredOutput(id="out-1", session_id=SESSION_A, content=ANSWER_TEXT))
    db.add(Thread(thread_id="th-1", session_id=SESSION_A, created_at=start, updated_at=start))
    for role, content in (("user", TASK_TEXT), ("assistant", ANSWER_TEXT)):
        db.add(
            ThreadMessage(
                thread_id="th-1",
                session_id=SESSION_A,
                role=role,
                content=content,
                created_at=start + timedelta(seconds=1),
            )
        )
    db.add(
        Delegation(
            session_id=SESSION_A,
            request_id="req-d1",
            attempt=0,
            provider="groq",
            model="llama-3.3-70b-versatile",
            task_type="code_review",
            status="rate_limited",
            error="429 Too Many Requests",
            latency_ms=120.0,
            created_at=start,
        )
    )
    db.add(
        Delegation(
            session_id=SESSION_A,
            request_id="req-d1",
            attempt=1,
            provider="openai",
            model="gpt-4o-mini",
            task_type="code_review",
            status="ok",
            input_tokens=1_200,
            output_tokens=300,
            cost_usd=0.00036,
            latency_ms=850.0,
            output_id="out-1",
            thread_id="th-1",
            created_at=start + timedelta(seconds=1),
        )
    )
    db.add(
        Delegation(
            session_id=SESSION_A,
            request_id="req-d2",
            provider="local",
            model="qwen2.5-coder",
            task_type="summarize",
            status="ok",
            input_tokens=800,
            output_tokens=200,
            cost_usd=None,
            priced=False,
            latency_ms=2_300.0,
            created_at=start + timedelta(minutes=5),
        )
    )
    db.add(
        ConsensusRun(
            id="cons-1",
            session_id=SESSION_A,
            strategy="majority",
            question="Is this migration reversible?",
            agreement=0.67,
            total_cost_usd=0.0012,
            latency_ms=1_900.0,
            created_at=start + timedelta(minutes=10),
        )
    )
    for i, provider in enumerate(["openai", "groq", "local"]):
        db.add(
            Delegation(
                session_id=SESSION_A,
                request_id="req-cons",
                attempt=0,
                provider=provider,
                model=f"model-{i}",
                task_type="consensus",
                status="ok",
                input_tokens=100,
                output_tokens=50,
                cost_usd=0.0004,
                latency_ms=600.0 + 100 * i,
                consensus_run_id="cons-1",
                created_at=start + timedelta(minutes=10),
            )
        )
    db.add(ProviderEvent(provider="groq", event="error", error_class="rate_limited", created_at=start))
    db.add(ProviderEvent(provider="groq", event="breaker_open", created_at=start + timedelta(seconds=1)))
    db.add(ProviderEvent(provider="groq", event="breaker_half_open", created_at=start + timedelta(seconds=31)))
