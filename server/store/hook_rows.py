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
from typing import Any

from sqlalchemy import Connection, insert

from server.store.models import AgentSession, Prompt, SubagentRun, ToolCall
from server.store.row_set import RowSet
from server.team import stamp_values

__all__ = ["SUMMARY_CHARS", "HookEvent", "apply_events"]

SUMMARY_CHARS = 500
_ERROR_CHARS = 4000
_ID = 200  # the size of the id and name columns


@dataclass(frozen=True, slots=True)
class HookEvent:
    """One parsed, redacted spool file."""

    event_id: str
    name: str
    session_id: str | None
    received_at: datetime
    payload: dict[str, Any]

    @property
    def agent(self) -> str:
        """``codex`` / ``gemini`` for an event their hooks captured (``capture.sh --agent``), else ``claude-code``."""
        suffix = self.event_id.rpartition(".")[2]
        return suffix if suffix in ("codex", "gemini") else "claude-code"

    def text(self, key: str, limit: int | None = None) -> str | None:
        """``payload[key]`` if it is a non-empty string, cut to ``limit`` characters (a column's size)."""
        value = self.payload.get(key)
        return value[:limit] if isinstance(value, str) and value else None


@dataclass
class _Batch:
    sessions: RowSet = field(default_factory=lambda: RowSet(AgentSession, "session_id"))
    tools: RowSet = field(default_factory=lambda: RowSet(ToolCall, "tool_use_id"))
    agents: RowSet = field(default_factory=lambda: RowSet(SubagentRun, "agent_id"))
    prompts: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])


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


def _session(batch: _Batch, event: HookEvent, session_id: str) -> None:
    row = batch.sessions.get(session_id)
    if row["started_at"] is None and row["last_event_at"] is None:
        row["agent"] = event.agent  # a new row: its first event says which agent runs it
        stamp_values(row)
    row["started_at"] = _earliest(row["started_at"], event.received_at)
    row["last_event_at"] = _latest(row["last_event_at"], event.received_at)
    cwd = event.text("cwd")
    if cwd and (row["cwd"] is None or event.name == "SessionStart"):
        row["cwd"] = cwd
        row["project"] = (os.path.basename(cwd.rstrip("/\\")) or cwd)[:500]
    transcript = event.text("transcript_path") if event.agent == "claude-code" else None  # others: their log
    if transcript and (row["transcript_path"] is None or event.name in ("SessionStart", "SessionEnd", "Stop")):
        row["transcript_path"] = transcript
    if event.name == "SessionStart":
        row["source"] = event.text("source", 50) or row["source"]
        if row["ended_at"] is not None and event.received_at > row["ended_at"]:  # resumed after it ended
            row["ended_at"] = row["end_reason"] = None
    elif event.name == "SessionEnd":
        row["ended_at"] = _latest(row["ended_at"], event.received_at)
        row["end_reason"] = event.text("reason", 100) or row["end_reason"]


def _prompt(batch: _Batch, event: HookEvent, session_id: str) -> None:
    text = event.payload.get("prompt")
    text = text if isinstance(text, str) else _summary(text, 1_000_000) or ""
    batch.prompts.append(
        {"event_id": event.event_id, "session_id": session_id, "text": text, "created_at": event.received_at}
    )


def _tool(batch: _Batch, event: HookEvent, session_id: str) -> None:
    tool_use_id = event.text("tool_use_id", _ID)
    if tool_use_id is None:
        return
    name = event.text("tool_name", _ID) or ""
    row = batch.tools.get(tool_use_id, session_id=session_id, tool_name=name or "?")
    if row["tool_name"] == "?" and name:
        row["tool_name"] = name
    row["agent_id"] = row["agent_id"] or event.text("agent_id", _ID)
    if row["input_summary"] is None:
        row["input_summary"] = _summary(event.payload.get("tool_input"))
    if event.name == "PreToolUse":
        row["started_at"] = event.received_at
    else:
        row["ended_at"] = event.received_at
        if event.name == "PostToolUse":
            row["status"] = "ok"
            row["response_summary"] = _summary(event.payload.get("tool_response"))
        elif event.name == "PermissionDenied":
            row["status"] = "error"
            row["error"] = _truncate(f"permission denied: {event.text('reason') or 'no reason given'}", _ERROR_CHARS)
        else:
            row["status"] = "error"
            row["error"] = _summary(event.payload.get("error") or "failed", _ERROR_CHARS)
    # Claude Code's own measure excludes permission prompts and hooks; the receive times are the fallback.
    measured = event.payload.get("duration_ms")
    ending = event.name != "PreToolUse"
    if ending and isinstance(measured, int | float) and not isinstance(measured, bool):
        row["duration_ms"] = float(measured)
    elif ending or row["duration_ms"] is None:
        row["duration_ms"] = _ms(row["started_at"], row["ended_at"])


def _agent_transcript(event: HookEvent, agent_id: str) -> str | None:
    """Where Claude Code 2.1 keeps a subagent's transcript, so its usage shows while it runs.

    SubagentStop names the file (``agent_transcript_path``) and overrides this guess.
    """
    main, session_id = event.text("transcript_path"), event.session_id
    if main is None or session_id is None:
        return None
    return os.path.join(os.path.dirname(main), session_id, "subagents", f"agent-{agent_id}.jsonl")


def _subagent(batch: _Batch, event: HookEvent, session_id: str) -> None:
    agent_id = event.text("agent_id", _ID)
    if agent_id is None:
        return
    row = batch.agents.get(agent_id, session_id=session_id)
    row["agent_type"] = event.text("agent_type", _ID) or row["agent_type"]
    row["parent_agent_id"] = row["parent_agent_id"] or event.text("parent_agent_id", _ID)
    if event.name == "SubagentStart":
        row["started_at"] = event.received_at
        row["transcript_path"] = row["transcript_path"] or _agent_transcript(event, agent_id)
    else:
        row["stopped_at"] = event.received_at
        row["transcript_path"] = event.text("agent_transcript_path") or row["transcript_path"]
    row["duration_ms"] = _ms(row["started_at"], row["stopped_at"])


_HANDLERS: dict[str, Callable[[_Batch, HookEvent, str], None]] = {
    "UserPromptSubmit": _prompt,
    "PreToolUse": _tool,
    "PostToolUse": _tool,
    "PostToolUseFailure": _tool,
    "PermissionDenied": _tool,
    "SubagentStart": _subagent,
    "SubagentStop": _subagent,
}


_AGENT_HANDLERS: dict[str, Callable[[_Batch, HookEvent, str], None]] = {
    "UserPromptSubmit": _prompt,  # Codex
    "BeforeAgent": _prompt,  # Gemini CLI
}


def apply_events(conn: Connection, events: Iterable[HookEvent]) -> set[str]:
    """Merge ``events`` into the typed tables on ``conn`` (not committed); returns the session ids touched.

    Events without a ``session_id`` only live in ``raw_event``.
    """
    events = [e for e in events if e.session_id]
    batch = _Batch()
    batch.sessions.load(conn, {e.session_id for e in events if e.session_id})
    batch.tools.load(conn, {t for e in events if (t := e.text("tool_use_id", _ID))})
    batch.agents.load(conn, {a for e in events if (a := e.text("agent_id", _ID))})
    for event in events:
        assert event.session_id is not None
        _session(batch, event, event.session_id)
        # Codex and Gemini CLI's tool calls and usage come from their own log (server.store.agents), read on
        # ingest from the path their events name; their hooks give the prompts.
        handler = _HANDLERS.get(event.name) if event.agent == "claude-code" else _AGENT_HANDLERS.get(event.name)
        if handler is not None:
            handler(batch, event, event.session_id)
    for rows in (batch.sessions, batch.tools, batch.agents):
        rows.write(conn)
    if batch.prompts:
        conn.execute(insert(Prompt), batch.prompts)
    return batch.sessions.touched
