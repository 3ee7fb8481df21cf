"""What a reader makes of one agent CLI's log file: its session, usage per response, tool calls, and what it skipped."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["LINE_CAP", "AgentLogRead", "AgentReader", "LoggedTool", "LoggedUsage", "count", "parse_time", "summary"]

LINE_CAP = 4 << 20
"""A longer line (a pasted file in a tool result) is skipped unread, and counted."""


@dataclass
class LoggedUsage:
    """One model response's tokens, in Anthropic's convention (``input_tokens`` excludes cache reads)."""

    model: str
    created_at: datetime | None
    input_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    """Output including reasoning / thinking tokens: both are billed as output."""


@dataclass
class LoggedTool:
    """One tool call the agent made."""

    name: str
    started_at: datetime | None = None
    ended_at: datetime | None = None
    status: str = "pending"
    input_summary: str | None = None
    response_summary: str | None = None


@dataclass
class AgentLogRead:
    """Everything one log file says; ``usage`` and ``tools`` are keyed by an id unique within the session."""

    agent: str
    session_id: str | None = None
    cli_version: str | None = None
    cwd: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    usage: dict[str, LoggedUsage] = field(default_factory=dict[str, LoggedUsage])
    tools: dict[str, LoggedTool] = field(default_factory=dict[str, LoggedTool])
    lines: int = 0
    skipped: Counter[str] = field(default_factory=Counter[str])

    def seen(self, when: datetime | None) -> None:
        """Widen the session's time span to include ``when``."""
        if when is None:
            return
        self.started_at = when if self.started_at is None else min(self.started_at, when)
        self.ended_at = when if self.ended_at is None else max(self.ended_at, when)


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time (``Z`` accepted), or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def count(value: Any) -> int | None:
    """A token count: a non-negative int (a bool is not one), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def summary(value: Any, limit: int = 500) -> str | None:
    """A short text of a tool's input or output for the ``tool_call`` row."""
    from server.redact import redact_text, strip_nul

    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    # Secrets out (a command's output can hold a key), and NUL out (PostgreSQL refuses it in text).
    return strip_nul(redact_text(text[: limit * 4]))[:limit]


@dataclass(frozen=True)
class AgentReader:
    """One agent CLI: its name, genai-prices provider, default home, how to find and read its logs."""

    agent: str
    pricing_provider: str
    home: Callable[[], Path]
    find_logs: Callable[[Path], Iterator[Path]]
    read_log: Callable[[Path], AgentLogRead]
