"""Hook events onto the typed tables: session, prompt, tool_call, subagent_run.

Events of one batch may arrive in any order (a PostToolUse before its PreToolUse, a SubagentStop before
its SubagentStart), and a row's other half may sit in an earlier batch: every handler merges into the
row keyed by ``session_id``, ``tool_use_id`` or ``agent_id``, whichever half comes first. Handlers run
only for events new to ``raw_event`` in the same transaction, so a replayed file changes nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, col, select

from server.store.models import AgentSession, Prompt, SubagentRun, ToolCall

__all__ = ["SUMMARY_CHARS", "HookEvent", "apply_events"]

SUMMARY_CHARS = 500
_ERROR_CHARS = 4000
_CHUNK = 500

Row = TypeVar("Row", bound=SQLModel)


@dataclass(frozen=True, slots=True)
class HookEvent:
    """One parsed, redacted spool file."""

    event_id: str
    name: str
    session_id: str | None
    received_at: datetime
    payload: dict[str, Any]

    def text(self, key: str) -> str | None:
        """``payload[key]`` if it is a non-empty string."""
        value = self.payload.get(key)
        return value if isinstance(value, str) and value else None


@dataclass
class _Batch:
    db: Session
    sessions: dict[str, AgentSession]
    tools: dict[str, ToolCall]
    agents: dict[str, SubagentRun]
    touched: set[str] = field(default_factory=set[str])


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(value: Any, limit: int = SUMMARY_CHARS) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return _truncate(text, limit)


def _ms(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() * 1000 if start and end else None


def _earliest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a


def _latest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def _load(db: Session, model: type[Row], key: str, ids: set[str]) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    wanted = sorted(ids)
    column = col(getattr(model, key))
    for start in range(0, len(wanted), _CHUNK):
        for row in db.exec(select(model).where(column.in_(wanted[start : start + _CHUNK]))):
            rows[getattr(row, key)] = row
    return rows


def _get(rows: dict[str, Row], db: Session, key: str, make: Callable[[], Row]) -> Row:
    row = rows.get(key)
    if row is None:
        row = rows[key] = make()
        db.add(row)
    return row


def _session(batch: _Batch, event: HookEvent, session_id: str) -> None:
    row = _get(batch.sessions, batch.db, session_id, lambda: AgentSession(session_id=session_id))
    batch.touched.add(session_id)
    row.started_at = _earliest(row.started_at, event.received_at)
    row.last_event_at = _latest(row.last_event_at, event.received_at)
    cwd = event.text("cwd")
    if cwd and (row.cwd is None or event.name == "SessionStart"):
        row.cwd = cwd
        row.project = os.path.basename(cwd.rstrip("/\\")) or cwd
    transcript = event.text("transcript_path")
    if transcript and (row.transcript_path is None or event.name in ("SessionStart", "SessionEnd", "Stop")):
        row.transcript_path = transcript
    if event.name == "SessionStart":
        row.source = event.text("source") or row.source
    elif event.name == "SessionEnd":
        row.ended_at = _latest(row.ended_at, event.received_at)
        row.end_reason = event.text("reason") or row.end_reason


def _prompt(batch: _Batch, event: HookEvent, session_id: str) -> None:
    text = event.payload.get("prompt")
    text = text if isinstance(text, str) else _summary(text, 1_000_000) or ""
    batch.db.add(Prompt(event_id=event.event_id, session_id=session_id, text=text, created_at=event.received_at))


def _tool(batch: _Batch, event: HookEvent, session_id: str) -> None:
    tool_use_id = event.text("tool_use_id")
    if tool_use_id is None:
        return
    row = _get(
        batch.tools,
        batch.db,
        tool_use_id,
        lambda: ToolCall(session_id=session_id, tool_use_id=tool_use_id, tool_name=event.text("tool_name") or "?"),
    )
    if row.tool_name == "?" and event.text("tool_name"):
        row.tool_name = event.text("tool_name") or "?"
    row.agent_id = row.agent_id or event.text("agent_id")
    if row.input_summary is None:
        row.input_summary = _summary(event.payload.get("tool_input"))
    if event.name == "PreToolUse":
        row.started_at = event.received_at
    else:
        row.ended_at = event.received_at
        if event.name == "PostToolUse":
            row.status = "ok"
            row.response_summary = _summary(event.payload.get("tool_response"))
        else:
            row.status = "error"
            row.error = _summary(event.payload.get("error") or "failed", _ERROR_CHARS)
    row.duration_ms = _ms(row.started_at, row.ended_at)


def _subagent(batch: _Batch, event: HookEvent, session_id: str) -> None:
    agent_id = event.text("agent_id")
    if agent_id is None:
        return
    row = _get(batch.agents, batch.db, agent_id, lambda: SubagentRun(session_id=session_id, agent_id=agent_id))
    row.agent_type = event.text("agent_type") or row.agent_type
    row.parent_agent_id = row.parent_agent_id or event.text("parent_agent_id")
    if event.name == "SubagentStart":
        row.started_at = event.received_at
    else:
        row.stopped_at = event.received_at
        row.transcript_path = event.text("agent_transcript_path") or row.transcript_path
    row.duration_ms = _ms(row.started_at, row.stopped_at)


_HANDLERS: dict[str, Callable[[_Batch, HookEvent, str], None]] = {
    "UserPromptSubmit": _prompt,
    "PreToolUse": _tool,
    "PostToolUse": _tool,
    "PostToolUseFailure": _tool,
    "SubagentStart": _subagent,
    "SubagentStop": _subagent,
}


def apply_events(db: Session, events: Iterable[HookEvent]) -> set[str]:
    """Merge ``events`` into the typed tables (not committed); returns the session ids they touched.

    Events without a ``session_id`` only live in ``raw_event``.
    """
    events = [e for e in events if e.session_id]
    batch = _Batch(
        db,
        _load(db, AgentSession, "session_id", {e.session_id for e in events if e.session_id}),
        _load(db, ToolCall, "tool_use_id", {t for e in events if (t := e.text("tool_use_id"))}),
        _load(db, SubagentRun, "agent_id", {a for e in events if (a := e.text("agent_id"))}),
    )
    for event in events:
        assert event.session_id is not None
        _session(batch, event, event.session_id)
        handler = _HANDLERS.get(event.name)
        if handler is not None:
            handler(batch, event, event.session_id)
    return batch.touched
