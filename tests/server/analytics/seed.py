"""Rows for analytics tests, written straight into the store (what ingest and delegate would have written)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

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
    ToolCall,
)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def at(minutes: float) -> datetime:
    """``T0`` plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def uid(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def add(engine: Engine, *rows: SQLModel) -> None:
    with Session(engine) as db:
        db.add_all(rows)
        db.commit()


def session(session_id: str, start: float = 0, minutes: float = 30, **kw: Any) -> AgentSession:
    values: dict[str, Any] = {
        "session_id": session_id,
        "started_at": at(start),
        "ended_at": at(start + minutes),
        "last_event_at": at(start + minutes),
        "project": "api",
        "models": ["claude-sonnet-4-5"],
        "cost_usd": 1.0,
        "cost_source": "claude_code",
    }
    values.update(kw)
    return AgentSession(**values)


def prompt(session_id: str, minute: float, text: str = "do it") -> Prompt:
    return Prompt(event_id=uid("p"), session_id=session_id, text=text, created_at=at(minute))


def tool(session_id: str, name: str, minute: float, ms: float | None = 100, status: str = "ok", **kw: Any) -> ToolCall:
    values: dict[str, Any] = {"started_at": at(minute), "duration_ms": ms, "status": status}
    values.update(kw)
    return ToolCall(session_id=session_id, tool_use_id=uid("tu"), tool_name=name, **values)


def usage(session_id: str, model: str, minute: float, cost: float | None, **kw: Any) -> ModelUsage:
    values: dict[str, Any] = {
        "input_tokens": 100,
        "output_tokens": 50,
        "cache_read_tokens": 0,
        "cache_creation_tokens": 0,
        "created_at": at(minute),
    }
    values.update(kw)
    return ModelUsage(
        session_id=session_id, model=model, message_id=uid("msg"), request_id=uid("req"), cost_usd=cost, **values
    )


def subagent(session_id: str, agent_id: str, minute: float, cost: float | None, **kw: Any) -> SubagentRun:
    values: dict[str, Any] = {
        "agent_type": "Explore",
        "duration_ms": 1000.0,
        "stopped_at": at(minute + 1),
        "input_tokens": 1000,
        "output_tokens": 100,
    }
    values.update(kw)
    return SubagentRun(session_id=session_id, agent_id=agent_id, started_at=at(minute), cost_usd=cost, **values)


def delegation(session_id: str | None, minute: float, **kw: Any) -> Delegation:
    values: dict[str, Any] = {
        "request_id": uid("r"),
        "provider": "groq",
        "model": "llama-3.3-70b-versatile",
        "task_type": "code_fix",
        "status": "ok",
        "input_tokens": 1000,
        "output_tokens": 500,
        "cost_usd": 0.001,
        "latency_ms": 500.0,
        "created_at": at(minute),
        # What writing the call and reading its result cost Claude: none unless a test says so.
        "claude_ask_tokens": 0,
        "claude_read_tokens": 0,
    }
    values.update(kw)
    return Delegation(session_id=session_id, **values)


def provider_event(provider: str, event: str, minute: float, **kw: Any) -> ProviderEvent:
    return ProviderEvent(provider=provider, event=event, created_at=at(minute), **kw)


def consensus(run_id: str, minute: float, **kw: Any) -> ConsensusRun:
    values: dict[str, Any] = {
        "strategy": "vote",
        "question": "q?",
        "agreement": 0.5,
        "total_cost_usd": 0.01,
        "latency_ms": 900.0,
    }
    values.update(kw)
    return ConsensusRun(id=run_id, created_at=at(minute), **values)


def raw(session_id: str | None, name: str, minute: float, payload: dict[str, Any]) -> RawEvent:
    return RawEvent(event_id=uid("ev"), session_id=session_id, event_name=name, received_at=at(minute), payload=payload)


def output(output_id: str, content: str) -> StoredOutput:
    return StoredOutput(id=output_id, content=content)


__all__ = [
    "T0",
    "add",
    "at",
    "consensus",
    "delegation",
    "output",
    "prompt",
    "provider_event",
    "raw",
    "session",
    "subagent",
    "tool",
    "uid",
    "usage",
]
