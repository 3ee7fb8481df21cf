"""Write what an agent log says as ``session``, ``model_usage``, ``tool_call`` and ``agent_log`` rows.

Idempotent: usage rows are keyed on (response id, ``<agent>:<session id>``), tool calls on
``<agent>:<session id>:<call id>``, and totals are recomputed from the stored rows; a file whose size and
mtime have not changed since the last import is not read again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.store.agents.log import AgentLogRead, AgentReader
from server.store.models import AgentLog, AgentSession, ModelUsage, ToolCall
from server.store.transcript_files import untextual
from server.team import Identity

__all__ = ["AgentImport", "AgentReader", "import_agent_logs", "import_file"]


@dataclass
class AgentImport:
    """What one agent's import did."""

    agent: str
    root: Path
    files: int = 0
    unchanged: int = 0
    sessions: int = 0
    new_sessions: int = 0
    skipped_lines: int = 0
    errors: list[str] = field(default_factory=list[str])


def _cost(reader: AgentReader, usage: ModelUsage) -> float | None:
    from server.pricing import cost_usd  # genai-prices costs ~0.2 s to import: only when there is usage

    return cost_usd(
        usage.model,
        provider=reader.pricing_provider,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        when=usage.created_at,
    )


def _session(db: Session, log: AgentLogRead, session_id: str, who: Identity) -> tuple[AgentSession, bool]:
    row = db.get(AgentSession, session_id)
    new = row is None
    if row is None:
        row = AgentSession(session_id=session_id, agent=log.agent, user=who.user, host=who.host)
        if log.cwd:
            row.cwd, row.project = log.cwd, (os.path.basename(log.cwd.rstrip("/\\")) or log.cwd)[:500]
        db.add(row)
    row.user, row.host = row.user or who.user, row.host or who.host  # a row hooks made first has neither
    if not row.cwd and log.cwd:
        row.cwd, row.project = log.cwd, (os.path.basename(log.cwd.rstrip("/\\")) or log.cwd)[:500]
    row.started_at = min(filter(None, (row.started_at, log.started_at)), default=None)
    row.ended_at = max(filter(None, (row.ended_at, log.ended_at)), default=None)
    row.last_event_at = row.ended_at
    return row, new


def _usage_rows(db: Session, reader: AgentReader, log: AgentLogRead, session_id: str) -> list[ModelUsage]:
    request_id = f"{log.agent}:{session_id}"[:200]
    query = select(ModelUsage).where(ModelUsage.session_id == session_id, ModelUsage.request_id == request_id)
    existing = {row.message_id: row for row in db.exec(query)}
    for key, line in log.usage.items():
        row = existing.get(key[:200])
        if row is None:
            row = ModelUsage(session_id=session_id, message_id=key[:200], request_id=request_id, model=line.model)
            existing[row.message_id] = row
            db.add(row)
        row.model, row.created_at = line.model, line.created_at
        row.input_tokens, row.output_tokens = line.input_tokens, line.output_tokens
        row.cache_read_tokens, row.cache_creation_tokens = line.cache_read_tokens, 0
        row.cost_usd = _cost(reader, row)
    return sorted(existing.values(), key=lambda r: (r.created_at is None, r.created_at))


def _tool_rows(db: Session, log: AgentLogRead, session_id: str) -> None:
    for call_id, tool in log.tools.items():
        tool_use_id = f"{log.agent}:{session_id}:{call_id}"[:200]
        row = db.exec(select(ToolCall).where(ToolCall.tool_use_id == tool_use_id)).first()
        if row is None:
            row = ToolCall(session_id=session_id, tool_use_id=tool_use_id, tool_name=tool.name)
            db.add(row)
        row.status, row.started_at, row.ended_at = tool.status, tool.started_at, tool.ended_at
        if tool.started_at and tool.ended_at:
            row.duration_ms = (tool.ended_at - tool.started_at).total_seconds() * 1000
        row.input_summary, row.response_summary = tool.input_summary, tool.response_summary


def _log_row(db: Session, path: Path, log: AgentLogRead, stat: os.stat_result) -> None:
    row = db.exec(select(AgentLog).where(AgentLog.path == str(path))).first()
    if row is None:
        row = AgentLog(path=str(path), agent=log.agent)
        db.add(row)
    row.session_id, row.cli_version = log.session_id, log.cli_version
    row.size, row.mtime_ns, row.lines = stat.st_size, stat.st_mtime_ns, log.lines
    row.skipped, row.skip_reasons = sum(log.skipped.values()), dict(log.skipped)


def _read_before(db: Session, paths: list[Path]) -> dict[str, tuple[int, int]]:
    """(size, mtime) of each of ``paths`` as the last import read it."""
    names = [str(p) for p in paths]
    seen: dict[str, tuple[int, int]] = {}
    for start in range(0, len(names), 500):
        query = select(AgentLog.path, AgentLog.size, AgentLog.mtime_ns).where(
            col(AgentLog.path).in_(names[start : start + 500])
        )
        seen.update({path: (size, mtime) for path, size, mtime in db.exec(query)})
    return seen


def import_file(
    db: Session,
    reader: AgentReader,
    path: Path,
    who: Identity,
    report: AgentImport,
    before: dict[str, tuple[int, int]] | None = None,
) -> None:
    """Read ``path`` into ``db`` (not committed) unless it has not changed since it was last read."""
    stat = path.stat()
    before = _read_before(db, [path]) if before is None else before
    if before.get(str(path)) == (stat.st_size, stat.st_mtime_ns):
        report.unchanged += 1
        return
    log = reader.read_log(path)
    report.skipped_lines += sum(log.skipped.values())
    if log.session_id is not None:
        session, new = _session(db, log, log.session_id, who)
        rows = _usage_rows(db, reader, log, log.session_id)
        _tool_rows(db, log, log.session_id)
        session.models = list(dict.fromkeys(row.model for row in rows))
        costs = [row.cost_usd for row in rows]
        session.cost_usd = None if not rows or None in costs else sum(c or 0.0 for c in costs)
        session.cost_source = "estimated" if rows else None
        report.sessions += 1
        report.new_sessions += new
    _log_row(db, path, log, stat)


_BATCH = 50


def import_agent_logs(engine: Engine, reader: AgentReader, root: Path, who: Identity) -> AgentImport:
    """Import every log of ``reader``'s agent under ``root``, committing every few files."""
    report = AgentImport(reader.agent, root)
    found: list[Path] = []
    for path in reader.find_logs(root):
        if (why := untextual(str(path))) is not None:
            report.errors.append(why)  # its path cannot be stored: it is said, and the rest imported
        else:
            found.append(path)
    for start in range(0, len(found), _BATCH):
        batch = found[start : start + _BATCH]
        with Session(engine) as db:
            before = _read_before(db, batch)
            for path in batch:
                report.files += 1
                try:
                    with db.begin_nested():  # a file that cannot be read leaves no half of itself
                        import_file(db, reader, path, who, report, before)
                except OSError as exc:
                    report.errors.append(f"{path}: {exc.strerror or type(exc).__name__}")
            db.commit()
    return report
