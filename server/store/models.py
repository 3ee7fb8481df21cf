"""The store's tables: a documented public schema (see docs/schema.md).

Users query these tables with their own tools (psql, sqlite3, Datasette, Grafana), so table and column
names are a public contract: add columns through migrations, never rename. Every time column is a
``UtcDateTime`` (``server.store.types``): stored as UTC, read back timezone-aware UTC on SQLite and PostgreSQL.
Every table carries ``session_id`` (the Claude Code session, when there is one).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.store.types import UtcDateTime

__all__ = [
    "AgentLog",
    "AgentSession",
    "ApiRequest",
    "BudgetReservation",
    "ConsensusRun",
    "Delegation",
    "Feedback",
    "ModelUsage",
    "Prompt",
    "ProviderEvent",
    "RawEvent",
    "RecordBatch",
    "RoutingStat",
    "SolveNode",
    "SolveRun",
    "StoredOutput",
    "SubagentRun",
    "Thread",
    "ThreadMessage",
    "ToolCall",
    "ToolDecision",
    "TranscriptMark",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class RawEvent(SQLModel, table=True):
    """Every hook event verbatim, including event types this code does not know yet."""

    __tablename__ = "raw_event"  # pyright: ignore[reportAssignmentType]

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=200, description="The spool file's name.")
    session_id: str | None = Field(default=None, index=True, max_length=200)
    event_name: str = Field(index=True, max_length=100)
    received_at: datetime = Field(
        sa_type=UtcDateTime, index=True, description="When the hook wrote the event (spool file mtime)."
    )
    ingested_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


_USER = "Who ran it: [team] user, else the OS account."
_HOST = "Where it ran: [team] host, else the hostname."


class AgentSession(SQLModel, table=True):
    """One agent session: Claude Code's (hooks, transcripts), or Codex CLI's or Gemini CLI's (their logs)."""

    __tablename__ = "session"  # pyright: ignore[reportAssignmentType]

    session_id: str = Field(primary_key=True, max_length=200)
    agent: str = Field(
        default="claude-code",
        index=True,
        max_length=50,
        sa_column_kwargs={"server_default": "claude-code"},
        description="claude-code, codex or gemini.",
    )
    user: str | None = Field(default=None, index=True, max_length=200, description=_USER)
    host: str | None = Field(default=None, max_length=200, description=_HOST)
    started_at: datetime | None = Field(sa_type=UtcDateTime, default=None, index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_event_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cwd: str | None = None
    project: str | None = Field(default=None, index=True, max_length=500)
    models: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str | None = Field(default=None, max_length=50, description="startup, resume, clear or compact.")
    end_reason: str | None = Field(default=None, max_length=100)
    transcript_path: str | None = None
    cost_usd: float | None = Field(default=None, description="Cost of record: Claude Code's own totalCostUSD.")
    cost_source: str | None = Field(
        default=None,
        max_length=50,
        description="'claude_code' (its own total), 'computed' (transcript usage priced), or 'estimated' "
        "(another agent's logged usage priced by genai-prices).",
    )
    context_tokens: int | None = Field(default=None, description="Latest context-window fill, from the transcript.")


class Prompt(SQLModel, table=True):
    """A prompt the user submitted."""

    __tablename__ = "prompt"  # pyright: ignore[reportAssignmentType]

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=200)
    session_id: str = Field(index=True, max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=UtcDateTime, index=True)


class ToolCall(SQLModel, table=True):
    """A tool call; PreToolUse and PostToolUse(Failure) join on ``tool_use_id``."""

    __tablename__ = "tool_call"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (
        Index("ix_tool_call_started_at_tool_name", "started_at", "tool_name", "status", "duration_ms"),
        Index("ix_tool_call_tool_name_duration_ms", "tool_name", "duration_ms", "started_at", "status", "session_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(index=True, max_length=200)
    tool_use_id: str = Field(unique=True, max_length=200)
    tool_name: str = Field(index=True, max_length=200)
    agent_id: str | None = Field(default=None, index=True, max_length=200, description="Set inside a subagent.")
    status: str = Field(default="pending", max_length=20, description="ok, error or pending.")
    started_at: datetime | None = Field(sa_type=UtcDateTime, default=None, index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    duration_ms: float | None = None
    input_summary: str | None = Field(default=None, sa_column=Column(Text))
    response_summary: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))


class SubagentRun(SQLModel, table=True):
    """A subagent run; SubagentStart and SubagentStop join on ``agent_id``."""

    __tablename__ = "subagent_run"  # pyright: ignore[reportAssignmentType]

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(index=True, max_length=200)
    agent_id: str = Field(unique=True, max_length=200)
    agent_type: str | None = Field(default=None, index=True, max_length=200)
    parent_agent_id: str | None = Field(default=None, max_length=200, description="None: started by the main agent.")
    started_at: datetime | None = Field(sa_type=UtcDateTime, default=None, index=True)
    stopped_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    duration_ms: float | None = None
    transcript_path: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    cost_usd: float | None = Field(default=None, description="None when some usage is unpriced.")
    unpriced_models: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ModelUsage(SQLModel, table=True):
    """Token usage of one API response in a transcript, deduplicated on message id + request id."""

    __tablename__ = "model_usage"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (
        UniqueConstraint("message_id", "request_id", name="uq_model_usage_message_request"),
        Index("ix_model_usage_session_id_agent_id", "session_id", "agent_id", "model", "output_tokens"),
        Index(
            "ix_model_usage_session_id_model",
            "session_id",
            "model",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_creation_tokens",
            "cost_usd",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No single-column indexes: every query filters on session_id, which both indexes above start with, and each
    # index is paid for by every insert (migrations 0017 and 0018: 307,255 rows 2.92 -> 2.38 s without three).
    session_id: str = Field(max_length=200)
    agent_id: str | None = Field(default=None, max_length=200, description="None: the main agent.")
    model: str = Field(max_length=200)
    message_id: str = Field(max_length=200)
    request_id: str = Field(default="", max_length=200)
    created_at: datetime | None = Field(sa_type=UtcDateTime, default=None)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_creation_1h_tokens: int = Field(
        default=0, description="The part of cache_creation_tokens written for one hour (priced at 2x input, not 1.25x)."
    )
    service_tier: str | None = Field(default=None, max_length=50, description="As the response said, e.g. standard.")
    cost_usd: float | None = Field(default=None, description="None: the model has no known price.")


class TranscriptMark(SQLModel, table=True):
    """How far a transcript was read, so the next import or ingest reads only what was appended.

    A file is known by its identity (device, inode): another file at the same path, or one cut shorter than
    ``offset``, is read again from its start (usage rows are keyed on message and request id, so nothing counts
    twice).
    """

    __tablename__ = "transcript_mark"  # pyright: ignore[reportAssignmentType]

    path: str = Field(primary_key=True, max_length=1000)
    session_id: str | None = Field(default=None, index=True, max_length=200)
    device: int = Field(sa_type=BigInteger)
    inode: int = Field(sa_type=BigInteger)
    size: int = Field(sa_type=BigInteger, description="-1: read only in part (a budget cut it), read on next time.")
    mtime_ns: int = Field(sa_type=BigInteger)
    offset: int = Field(sa_type=BigInteger, description="Bytes read so far: just past the last complete line.")
    skipped: dict[str, int] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="Usage lines refused, by reason (negative, not a number, absurd).",
    )
    read_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class Delegation(SQLModel, table=True):
    """One attempt to have a provider answer (fallbacks and consensus members included)."""

    __tablename__ = "delegation"  # pyright: ignore[reportAssignmentType]

    id: int | None = Field(default=None, primary_key=True)
    session_id: str | None = Field(default=None, index=True, max_length=200)
    user: str | None = Field(default=None, index=True, max_length=200, description=_USER)
    host: str | None = Field(default=None, max_length=200, description=_HOST)
    request_id: str = Field(index=True, max_length=64, description="Groups the attempts of one delegate call.")
    attempt: int = Field(default=0, description="0 for the first candidate, n for the n-th fallback.")
    provider: str = Field(index=True, max_length=200)
    model: str = Field(index=True, max_length=200)
    task_type: str | None = Field(
        default=None,
        index=True,
        max_length=100,
        description="The task type (code_fix, ui, ...): a delegate call's; a consensus call's question's. NULL on "
        "solve calls (the task's type is the classification of solve_run.task) and on consensus rows written before "
        "migration 0015.",
    )
    role: str | None = Field(
        default=None,
        index=True,
        max_length=20,
        description="What the call was for: member, judge or grouping (a consensus call), solve or solve_judge "
        "(a solve call); NULL for a delegate attempt.",
    )
    status: str = Field(index=True, max_length=50, description="ok, or an error class (timeout, rate_limited, ...).")
    error: str | None = Field(default=None, sa_column=Column(Text))
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = Field(default=None, description="None when the model is unpriced.")
    priced: bool = True
    latency_ms: float | None = None
    cache_hit: bool = False
    thread_id: str | None = Field(default=None, index=True, max_length=64)
    consensus_run_id: str | None = Field(default=None, index=True, max_length=64)
    output_id: str | None = Field(default=None, max_length=64, description="StoredOutput holding the full answer.")
    solve_node_id: str | None = Field(default=None, index=True, max_length=64, description="The solve node it served.")
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow, index=True)
    quality: float | None = Field(
        default=None, description="0 to 1: a consensus member's judge score / 10, or 1/0 for agreeing with the vote."
    )
    claude_ask_tokens: int | None = Field(
        default=None,
        description="On the answering attempt of a delegate call: tokens of the tool_use input Claude wrote "
        "(estimated from its characters); None before they were recorded.",
    )
    claude_read_tokens: int | None = Field(
        default=None, description="On the answering attempt of a delegate call: tokens of the tool_result Claude read."
    )
    learned_over: str | None = Field(
        default=None,
        max_length=400,
        description="On a first attempt: the model the written order would have tried first, when learning put "
        "another first.",
    )


class RoutingStat(SQLModel, table=True):
    """Running totals per (task type, model) that learned routing reads; rebuildable from ``delegation`` and
    ``feedback`` rows (``server.routing.learn_store.rebuild``)."""

    __tablename__ = "routing_stat"  # pyright: ignore[reportAssignmentType]
    __table_args__ = (UniqueConstraint("task_type", "model", "user", name="uq_routing_stat_task_type_model_user"),)

    id: int | None = Field(default=None, primary_key=True)
    task_type: str = Field(max_length=100)
    model: str = Field(max_length=400, description="provider:model")
    user: str = Field(
        default="",
        max_length=200,
        sa_column_kwargs={"server_default": ""},
        description="'': the whole store's totals; a name: that person's own ([routing.learn] scope = \"user\").",
    )
    session_id: str | None = Field(default=None, max_length=200, description="The latest observation's session.")
    calls: int = Field(
        default=0,
        description="Attempts that said something about the model (not cache hits, open circuits or cancellations).",
    )
    successes: int = 0
    latency_ms_sum: float = Field(default=0.0, description="Over successful calls.")
    latency_n: int = 0
    cost_usd_sum: float = Field(default=0.0, description="Over priced successful calls.")
    cost_n: int = 0
    quality_sum: float = Field(default=0.0, description="Good feedback 1, bad 0, consensus quality 0 to 1.")
    quality_n: int = 0
    last_at: datetime | None = Field(sa_type=UtcDateTime, default=None, description="The latest observation folded in.")


class Feedback(SQLModel, table=True):
    """Whether a delegated answer was good, from the calling agent (MCP ``feedback``) or the dashboard."""

    __tablename__ = "feedback"  # pyright: ignore[reportAssignmentType]

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(unique=True, max_length=64, description="The delegate call judged.")
    session_id: str | None = Field(default=None, index=True, max_length=200)
    task_type: str = Field(max_length=100)
    model: str = Field(max_length=400, description="provider:model that answered.")
    good: bool
    note: str | None = Field(default=None, sa_column=Column(Text))
    source: str = Field(default="mcp", max_length=20, description="'mcp' or 'dashboard'.")
    project_dir: str | None = Field(
        default=None,
        max_length=1000,
        description="Where MCP feedback was given: it moves learned routing there only. NULL counts everywhere.",
    )
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow, index=True)
    updated_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class ConsensusRun(SQLModel, table=True):
    """One consensus call; its members are ``delegation`` rows with the same ``consensus_run_id``."""

    __tablename__ = "consensus_run"  # pyright: ignore[reportAssignmentType]

    id: str = Field(primary_key=True, max_length=64)
    session_id: str | None = Field(default=None, index=True, max_length=200)
    strategy: str = Field(max_length=50)
    question: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="ok", max_length=50)
    agreement: float | None = None
    final_output_id: str | None = Field(default=None, max_length=64)
    total_cost_usd: float | None = Field(default=None, description="None when any call's cost is unknown.")
    cost_known_usd: float | None = Field(default=None, description="The sum of the calls whose cost is known.")
    latency_ms: float | None = None
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow, index=True)


class SolveRun(SQLModel, table=True):
    """One ``solve`` call: an AB-MCTS search whose nodes are ``solve_node`` rows."""

    __tablename__ = "solve_run"  # pyright: ignore[reportAssignmentType]

    id: str = Field(primary_key=True, max_length=64)
    session_id: str | None = Field(default=None, index=True, max_length=200)
    user: str | None = Field(default=None, index=True, max_length=200, description=_USER)
    host: str | None = Field(default=None, max_length=200, description=_HOST)
    task: str = Field(sa_column=Column(Text, nullable=False))
    models: str = Field(sa_column=Column(Text, nullable=False), description="The models searched, comma-separated.")
    check_name: str | None = Field(default=None, max_length=200, description="The [solve.checks] name used.")
    judge_model: str | None = Field(default=None, max_length=200)
    status: str = Field(default="ok", max_length=50, description="ok, failed, cancelled or error.")
    stop_reason: str | None = Field(default=None, max_length=50, description="target, max_calls, cost_cap, deadline...")
    target_score: float = 1.0
    best_score: float | None = None
    best_node_id: str | None = Field(default=None, max_length=64)
    calls: int = 0
    total_cost_usd: float | None = Field(default=None, description="None when any call's cost is unknown.")
    cost_known_usd: float | None = Field(default=None, description="The sum of the calls whose cost is known.")
    unpriced_calls: int = Field(default=0, description="Calls whose cost is unknown.")
    latency_ms: float | None = None
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow, index=True)


class SolveNode(SQLModel, table=True):
    """One node of a solve run's tree: one answer (wider: fresh; deeper: a refinement of ``parent_id``)."""

    __tablename__ = "solve_node"  # pyright: ignore[reportAssignmentType]

    id: str = Field(primary_key=True, max_length=64)
    run_id: str = Field(index=True, max_length=64)
    session_id: str | None = Field(default=None, index=True, max_length=200)
    parent_id: str | None = Field(default=None, max_length=64, description="NULL for a fresh (wider) answer.")
    seq: int = Field(description="Order of expansion within the run, from 0.")
    model: str = Field(max_length=200, description="provider:model")
    action: str = Field(max_length=10, description="wider or deeper.")
    depth: int = Field(description="1 for a fresh answer, parent's depth + 1 for a refinement.")
    score: float | None = None
    status: str = Field(max_length=50, description="ok, or why the node failed (timeout, judge_failed, ...).")
    feedback: str | None = Field(default=None, sa_column=Column(Text), description="Check output tail or critique.")
    cost_usd: float | None = Field(default=None, description="The node's calls (answer and judge); NULL if unpriced.")
    latency_ms: float | None = None
    output_id: str | None = Field(default=None, max_length=64, description="StoredOutput holding the answer.")
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow, index=True)


class Thread(SQLModel, table=True):
    """A conversation that ``delegate`` continues across calls and models."""

    __tablename__ = "thread"  # pyright: ignore[reportAssignmentType]

    thread_id: str = Field(primary_key=True, max_length=64)
    session_id: str | None = Field(default=None, index=True, max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    updated_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)


class ThreadMessage(SQLModel, table=True):
    """One message of a thread, in order."""

    __tablename__ = "thread_message"  # pyright: ignore[reportAssignmentType]

    id: int | None = Field(default=None, primary_key=True)
    thread_id: str = Field(index=True, max_length=64)
    session_id: str | None = Field(default=None, max_length=200)
    role: str = Field(max_length=20)
    content: str = Field(sa_column=Column(Text, nullable=False))
    model: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    project_dir: str | None = Field(
        default=None, max_length=1000, description="The project folder of the session that made it (resolved)."
    )


class StoredOutput(SQLModel, table=True):
    """A full answer kept when the copy returned to the client was cut to fit its output limit."""

    __tablename__ = "stored_output"  # pyright: ignore[reportAssignmentType]

    id: str = Field(primary_key=True, max_length=64)
    session_id: str | None = Field(default=None, index=True, max_length=200)
    kind: str = Field(default="delegation", max_length=50)
    content: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
    project_dir: str | None = Field(
        default=None, max_length=1000, description="The project folder of the session that made it (resolved)."
    )


class ProviderEvent(SQLModel, table=True):
    """A provider health event: a breaker transition or a classified error."""

    __tablename__ = "provider_event"  # pyright: ignore[reportAssignmentType]

    id: int | None = Field(default=None, primary_key=True)
    session_id: str | None = Field(default=None, max_length=200)
    provider: str = Field(index=True, max_length=200)
    event: str = Field(max_length=50, description="breaker_open, breaker_half_open, breaker_closed or error.")
    error_class: str | None = Field(default=None, max_length=50)
    detail: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow, index=True)


class RecordBatch(SQLModel, table=True):
    """A batch of rows the recorder wrote; its id makes a batch that waited in the spool land exactly once."""

    __tablename__ = "record_batch"  # pyright: ignore[reportAssignmentType]

    id: str = Field(primary_key=True, max_length=64)
    session_id: str | None = Field(default=None, max_length=200)
    written_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow, index=True)


class BudgetReservation(SQLModel, table=True):
    """The worst-case cost of a call in flight, counted against budgets until its delegation row lands."""

    __tablename__ = "budget_reservation"  # pyright: ignore[reportAssignmentType]

    id: str = Field(primary_key=True, max_length=64)
    session_id: str | None = Field(default=None, index=True, max_length=200)
    model: str = Field(max_length=200)
    amount_usd: float
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow, index=True)
    expires_at: datetime = Field(
        sa_type=UtcDateTime, index=True, description="Ignored after this (a process that died mid-call)."
    )


class ApiRequest(SQLModel, table=True):
    """One Claude Code API request, from its own telemetry (OTLP ``claude_code.api_request``): its cost of record."""

    __tablename__ = "api_request"  # pyright: ignore[reportAssignmentType]
    # A retry repeats a record whole; one that only shares its event.sequence is another record, kept beside it.
    __table_args__ = (UniqueConstraint("session_id", "fingerprint", name="uq_api_request_session_fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(index=True, max_length=200)
    user: str | None = Field(default=None, index=True, max_length=200, description=_USER)
    host: str | None = Field(default=None, max_length=200, description=_HOST)
    prompt_id: str | None = Field(default=None, index=True, max_length=200)
    request_id: str | None = Field(default=None, max_length=200, description="When Claude Code sends it.")
    event_sequence: int | None = Field(default=None, description="The record's event.sequence.")
    fingerprint: str | None = Field(
        default=None, max_length=64, description="sha256 of everything the record says (deduplicates retries)."
    )
    model: str | None = Field(default=None, max_length=200)
    cost_usd: float | None = Field(default=None, description="Claude Code's own figure; None when not sent.")
    duration_ms: float | None = None
    ttft_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    query_source: str | None = Field(default=None, max_length=200, description="sdk, or agent:... for a subagent.")
    agent_id: str | None = Field(default=None, index=True, max_length=200, description="Set for a subagent.")
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow, index=True)


class ToolDecision(SQLModel, table=True):
    """A tool call's permission decision and result from telemetry; joins ``tool_call`` on ``tool_use_id``."""

    __tablename__ = "tool_decision"  # pyright: ignore[reportAssignmentType]
    # Per session: a record of one session never lands on another's row, whatever tool_use_id it names.
    __table_args__ = (UniqueConstraint("session_id", "tool_use_id", name="uq_tool_decision_session_tool_use"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(index=True, max_length=200)
    user: str | None = Field(default=None, index=True, max_length=200, description=_USER)
    host: str | None = Field(default=None, max_length=200, description=_HOST)
    tool_use_id: str = Field(index=True, max_length=200)
    tool_name: str | None = Field(default=None, max_length=200)
    decision: str | None = Field(default=None, max_length=20, description="accept or reject.")
    source: str | None = Field(default=None, max_length=100, description="What decided (config, user, hook...).")
    success: bool | None = Field(default=None, description="From tool_result.")
    duration_ms: float | None = Field(default=None, description="From tool_result.")
    created_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow, index=True)


class AgentLog(SQLModel, table=True):
    """One log file of another agent CLI (a Codex rollout, a Gemini CLI chat) as ``switchboard import`` last read it.

    An unchanged file (same size and mtime) is not read again; lines it did not understand are counted with the
    reason, for ``doctor``.
    """

    __tablename__ = "agent_log"  # pyright: ignore[reportAssignmentType]

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(unique=True, max_length=1000)
    agent: str = Field(index=True, max_length=50, description="codex or gemini.")
    session_id: str | None = Field(default=None, index=True, max_length=200)
    cli_version: str | None = Field(default=None, max_length=50, description="The CLI version that wrote it.")
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    mtime_ns: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    lines: int = 0
    skipped: int = Field(default=0, description="Lines not understood (skipped).")
    skip_reasons: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    read_at: datetime = Field(sa_type=UtcDateTime, default_factory=utcnow)
