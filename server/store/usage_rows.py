"""Transcript usage into ``model_usage``, and the totals derived from it on ``session`` and ``subagent_run``.

Totals are recomputed from the stored rows rather than added up incrementally, so reading a transcript
twice (a rerun after a crash, a file that grew) never counts anything twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from server.store.models import AgentSession, ModelUsage, SubagentRun
from server.store.transcripts import Transcript, TranscriptCache, UsageLine

__all__ = ["refresh_recent_sessions", "refresh_sessions"]


def _cost(line: UsageLine) -> float | None:
    from server.pricing import cost_usd  # genai-prices costs ~0.2 s to import: only when there is usage

    return cost_usd(
        line.model,
        input_tokens=line.input_tokens,
        output_tokens=line.output_tokens,
        cache_read_tokens=line.cache_read_tokens,
        cache_write_tokens=line.cache_creation_tokens,
        when=line.created_at,
    )


def _store_usage(db: Session, session_id: str, transcript: Transcript) -> None:
    """Insert new usage rows; update rows whose counts grew (the transcript was read mid-message)."""
    if not transcript.usage:
        return
    message_ids = sorted({message_id for message_id, _ in transcript.usage})
    existing: dict[tuple[str, str], ModelUsage] = {}
    for start in range(0, len(message_ids), 500):
        query = select(ModelUsage).where(col(ModelUsage.message_id).in_(message_ids[start : start + 500]))
        existing.update({(row.message_id, row.request_id): row for row in db.exec(query)})
    for key, line in transcript.usage.items():
        row = existing.get(key)
        counts = (line.input_tokens, line.output_tokens, line.cache_read_tokens, line.cache_creation_tokens)
        if row is not None:
            if (row.input_tokens, row.output_tokens, row.cache_read_tokens, row.cache_creation_tokens) == counts:
                continue
        else:
            row = ModelUsage(session_id=session_id, message_id=line.message_id, request_id=line.request_id, model="")
            db.add(row)
        row.agent_id = row.agent_id or line.agent_id
        row.model = line.model
        row.created_at = line.created_at
        row.input_tokens, row.output_tokens, row.cache_read_tokens, row.cache_creation_tokens = counts
        row.cost_usd = _cost(line)


def _sum_cost(rows: list[ModelUsage]) -> float | None:
    if any(row.cost_usd is None for row in rows):
        return None
    return sum(row.cost_usd or 0.0 for row in rows)


def _totals(db: Session, session: AgentSession, agents: list[SubagentRun]) -> None:
    db.flush()
    rows = list(db.exec(select(ModelUsage).where(ModelUsage.session_id == session.session_id)))
    rows.sort(key=lambda row: (row.created_at is None, row.created_at, row.id or 0))
    session.models = list(dict.fromkeys(row.model for row in rows))
    if session.cost_source != "claude_code":
        session.cost_usd = _sum_cost(rows) if rows else None
        session.cost_source = "computed" if rows else None
    for agent in agents:
        mine = [row for row in rows if row.agent_id == agent.agent_id]
        agent.input_tokens = sum(row.input_tokens for row in mine)
        agent.output_tokens = sum(row.output_tokens for row in mine)
        agent.cache_read_tokens = sum(row.cache_read_tokens for row in mine)
        agent.cache_creation_tokens = sum(row.cache_creation_tokens for row in mine)
        agent.cost_usd = _sum_cost(mine) if mine else None
        agent.unpriced_models = sorted({row.model for row in mine if row.cost_usd is None})


def _refresh(db: Session, session: AgentSession, agents: list[SubagentRun], cache: TranscriptCache) -> None:
    changed = False
    # Subagent transcripts first: their lines may also appear, as sidechain, in the main one.
    for agent in agents:
        if agent.transcript_path and (sub := cache.read_if_changed(agent.transcript_path, agent.agent_id)):
            _store_usage(db, session.session_id, sub)
            changed = True
    if session.transcript_path and (main := cache.read_if_changed(session.transcript_path)):
        _store_usage(db, session.session_id, main)
        if main.last_main_usage is not None:
            session.context_tokens = main.last_main_usage.context_tokens
        if main.total_cost_usd is not None:
            session.cost_usd, session.cost_source = main.total_cost_usd, "claude_code"
        elif main.cost_state_seen and session.cost_source == "claude_code":
            session.cost_source = None  # its total is no longer usable: compute one below
        changed = True
    if changed:
        _totals(db, session, agents)


def refresh_sessions(db: Session, session_ids: Iterable[str], cache: TranscriptCache) -> None:
    """Read the changed transcripts of these sessions and their subagents into the store (not committed)."""
    wanted = sorted(set(session_ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        sessions = db.exec(select(AgentSession).where(col(AgentSession.session_id).in_(chunk))).all()
        agents: dict[str, list[SubagentRun]] = {}
        for agent in db.exec(select(SubagentRun).where(col(SubagentRun.session_id).in_(chunk))):
            agents.setdefault(agent.session_id, []).append(agent)
        for session in sessions:
            _refresh(db, session, agents.get(session.session_id, []), cache)


def refresh_recent_sessions(db: Session, cache: TranscriptCache, since: datetime) -> None:
    """Look again at the transcripts of sessions with events since ``since`` (not committed).

    Transcripts change without a hook event to say so: the last lines of a turn, a subagent running in
    the background. Unchanged files cost a ``stat`` with a long-lived ``cache``.
    """
    query = select(AgentSession.session_id).where(col(AgentSession.last_event_at) >= since)
    refresh_sessions(db, db.exec(query).all(), cache)
