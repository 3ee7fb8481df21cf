"""Transcript usage into ``model_usage``, and the totals derived from it on ``session`` and ``subagent_run``.

Totals are recomputed from the stored rows rather than added up incrementally, so reading a transcript
twice (a rerun after a crash, a file that grew, a file rewritten) never counts anything twice. Rows are
written through SQLAlchemy Core (an import writes tens of thousands; ORM objects cost ~30% of it) and the
totals are one aggregate query per session, not a load of the rows just written.

How far each transcript was read is kept in ``transcript_mark``, written in the same transaction as the
rows: the next run, in this process or another, reads only what was appended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, func, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from server.store.driver_insert import insert_rows, insert_values, sqlite_insert_many
from server.store.models import AgentSession, ModelUsage, SubagentRun, TranscriptMark, utcnow
from server.store.row_set import RowSet
from server.store.transcripts import Mark, Transcript, TranscriptCache, UsageLine, price_usage

__all__ = ["MARK_PATH_MAX", "load_marks", "refresh_recent_sessions", "refresh_sessions", "save_marks"]

_USAGE: Table = ModelUsage.__table__  # pyright: ignore[reportAttributeAccessIssue]
_MARKS: Table = TranscriptMark.__table__  # pyright: ignore[reportAttributeAccessIssue]
_CHUNK = 500
MARK_PATH_MAX = 1000
"""A longer path has no stored mark: its file is read whole each time (rows dedupe, so nothing counts twice)."""
_COUNT_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "cache_creation_1h_tokens",
)


_VALUE_COLUMNS = ("model", "created_at", *_COUNT_COLUMNS, "service_tier", "cost_usd")
_INSERT_COLUMNS = ("session_id", "message_id", "request_id", "agent_id", *_VALUE_COLUMNS)
_COUNTS = slice(6, 6 + len(_COUNT_COLUMNS))
"""Where the counts sit in a row of :data:`_INSERT_COLUMNS`."""


def _values(line: UsageLine) -> list[Any]:
    """The line's values of :data:`_VALUE_COLUMNS`: rows are lists in column order, not dicts (244,367 rows: dicts
    cost ~0.6 s more of the importing process, about 7% of a 10,000-session import)."""
    cost = line.cost_usd if line.priced else price_usage(line)
    return [line.model, line.created_at, *line.counts, line.service_tier, cost]


# Built once: building a statement per transcript (coercing every column, then its cache key) cost more than
# running it on an import of many small sessions (2,000 sessions: ~0.5 of 7.0 CPU s in cProfile).
_EXISTING = core_select(
    _USAGE.c.id,
    _USAGE.c.message_id,
    _USAGE.c.request_id,
    _USAGE.c.agent_id,
    *[_USAGE.c[name] for name in _COUNT_COLUMNS],
).where(_USAGE.c.message_id.in_(bindparam("message_ids", expanding=True)))


def _existing(conn: Connection, message_ids: Sequence[str]) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for start in range(0, len(message_ids), _CHUNK):
        rows = conn.execute(_EXISTING, {"message_ids": list(message_ids[start : start + _CHUNK])})
        found.update({(row.message_id, row.request_id): row for row in rows})
    return found


_SQLITE_NEW_ONLY = "ON CONFLICT (message_id, request_id) DO NOTHING"


def _store_usage(conn: Connection, reads: list[tuple[str, Transcript]]) -> None:
    """Insert new usage rows; update rows whose counts changed (a transcript read mid-message, or a line that
    another transcript holds too: a subagent's sidechain in the main one). Later reads win, as if each transcript
    were written in turn; a row keeps the session and agent it was first stored with.

    On SQLite the rows are inserted first, each only where its response is not stored yet: when all of them were
    (a first import, lines appended), nothing is looked up. Looking up ~2,000 message ids before each insert cost
    0.2 s of a 2.0 s first import of 40 sessions, 0.6 s of 10,000. When some were stored already, they are
    looked up and compared as below; the rows just inserted compare equal to what they were made from.
    """
    merged = _merged(reads)
    if conn.dialect.name == "sqlite":
        rows = list(merged.values())
        if sqlite_insert_many(conn, _USAGE, _INSERT_COLUMNS, rows, on_conflict=_SQLITE_NEW_ONLY) == len(rows):
            return
    message_ids = sorted({message_id for message_id, _ in merged})
    stored = {key: (row.id, row.agent_id, tuple(row[4:])) for key, row in _existing(conn, message_ids).items()}
    updates: dict[int, dict[str, Any]] = {}
    for _session_id, transcript in reads:
        for key, line in transcript.usage.items():
            if (row := stored.get(key)) is not None and row[2] != line.counts:
                row_id, agent_id = row[0], row[1] or line.agent_id
                values = dict(zip(_VALUE_COLUMNS, _values(line), strict=True))
                updates[row_id] = {"_id": row_id, "agent_id": agent_id, **values}
                stored[key] = (row_id, agent_id, line.counts)
    insert_values(conn, _USAGE, _INSERT_COLUMNS, [row for key, row in merged.items() if key not in stored])
    if updates:
        names = ["agent_id", *_VALUE_COLUMNS]
        statement = update(_USAGE).where(_USAGE.c.id == bindparam("_id"))
        conn.execute(statement.values({name: bindparam(name) for name in names}), list(updates.values()))


def _merged(reads: list[tuple[str, Transcript]]) -> dict[tuple[str, str], list[Any]]:
    """One row of :data:`_INSERT_COLUMNS` per response in ``reads``: later reads win, a row keeps the session of
    its first read and the first agent any read names."""
    rows: dict[tuple[str, str], list[Any]] = {}
    for session_id, transcript in reads:
        for key, line in transcript.usage.items():
            if (new := rows.get(key)) is None:
                rows[key] = [session_id, line.message_id, line.request_id, line.agent_id, *_values(line)]
            elif tuple(new[_COUNTS]) != line.counts:
                new[3], new[4:] = new[3] or line.agent_id, _values(line)
    return rows


_PENDING_LINES = 2_000
"""Usage lines read and not yet written. Enough that a batch of small sessions is one look-up and one insert; few
enough that the import's read-ahead worker keeps parsing while they are written (at 20,000, 40 sessions of ~840
responses took 1.88 -> 2.45 s wall: the worker, a few transcripts ahead, stood idle through each long write)."""


class _Writes:
    """The usage rows of many transcripts, written together: looking up the stored rows and inserting per
    transcript cost more than the rows on an import of many small sessions (2,000 sessions: ~1.2 of 5.0 s in
    cProfile)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._reads: list[tuple[str, Transcript]] = []
        self._lines = 0

    def add(self, session_id: str, transcript: Transcript) -> None:
        if not transcript.usage:
            return
        self._reads.append((session_id, transcript))
        self._lines += len(transcript.usage)
        if self._lines >= _PENDING_LINES:
            self.write()

    def write(self) -> None:
        reads, self._reads, self._lines = self._reads, [], 0
        if reads:
            _store_usage(self._conn, reads)


_TOTALS = (
    core_select(
        _USAGE.c.session_id,
        _USAGE.c.agent_id,
        _USAGE.c.model,
        func.min(_USAGE.c.created_at).label("first"),
        func.min(_USAGE.c.id).label("first_id"),
        *[func.coalesce(func.sum(_USAGE.c[name]), 0).label(name) for name in _COUNT_COLUMNS[:4]],
        func.sum(_USAGE.c.cost_usd).label("cost"),
        func.sum(case((_USAGE.c.cost_usd.is_(None), 1), else_=0)).label("unpriced"),
    )
    .where(_USAGE.c.session_id.in_(bindparam("session_ids", expanding=True)))
    .group_by(_USAGE.c.session_id, _USAGE.c.agent_id, _USAGE.c.model)
)
"""Sessions' usage per (session, agent, model); built once like :data:`_EXISTING`."""


Row = dict[str, Any]
"""A ``session`` or ``subagent_run`` row as a :class:`~server.store.row_set.RowSet` holds it."""


def _totals(conn: Connection, sessions: list[Row], agents: dict[str, list[Row]]) -> None:
    found: dict[str, list[Any]] = {}
    ids = [session["session_id"] for session in sessions]
    for start in range(0, len(ids), _CHUNK):
        for group in conn.execute(_TOTALS, {"session_ids": ids[start : start + _CHUNK]}):
            found.setdefault(group.session_id, []).append(group)
    for session in sessions:
        _session_totals(session, found.get(session["session_id"], []), agents.get(session["session_id"], []))


def _session_totals(session: Row, groups: list[Any], agents: list[Row]) -> None:
    groups.sort(key=lambda g: (g.first is None, g.first or datetime.min, g.first_id))
    session["models"] = list(dict.fromkeys(g.model for g in groups))
    if session["cost_source"] != "claude_code":
        session["cost_usd"] = _sum_cost(groups) if groups else None
        session["cost_source"] = "computed" if groups else None
    for agent in agents:
        mine = [g for g in groups if g.agent_id == agent["agent_id"]]
        agent["input_tokens"] = sum(g.input_tokens for g in mine)
        agent["output_tokens"] = sum(g.output_tokens for g in mine)
        agent["cache_read_tokens"] = sum(g.cache_read_tokens for g in mine)
        agent["cache_creation_tokens"] = sum(g.cache_creation_tokens for g in mine)
        agent["cost_usd"] = _sum_cost(mine) if mine else None
        agent["unpriced_models"] = sorted({g.model for g in mine if g.unpriced})


def _sum_cost(groups: Sequence[Any]) -> float | None:
    if any(g.unpriced for g in groups):
        return None
    return sum(g.cost or 0.0 for g in groups)


def _read(session: Row, agents: list[Row], cache: TranscriptCache, writes: _Writes) -> bool:
    """Read the session's changed transcripts into ``writes``; whether any changed."""
    changed = False
    # Subagent transcripts first: their lines may also appear, as sidechain, in the main one.
    for agent in agents:
        if agent["transcript_path"] and (sub := cache.read_if_changed(agent["transcript_path"], agent["agent_id"])):
            writes.add(session["session_id"], sub)
            changed = True
    if session["transcript_path"] and (main := cache.read_if_changed(session["transcript_path"])):
        writes.add(session["session_id"], main)
        if main.last_main_usage is not None:
            session["context_tokens"] = main.last_main_usage.context_tokens
        if main.total_cost_usd is not None:
            session["cost_usd"], session["cost_source"] = main.total_cost_usd, "claude_code"
        elif main.cost_state_seen and session["cost_source"] == "claude_code":
            session["cost_source"] = None  # its total is no longer usable: compute one below
        changed = True
    return changed


def load_marks(conn: Connection, paths: Sequence[str]) -> dict[str, Mark]:
    """The stored read marks of these transcripts."""
    marks: dict[str, Mark] = {}
    wanted = sorted({path for path in paths if len(path) <= MARK_PATH_MAX})
    for start in range(0, len(wanted), _CHUNK):
        query = core_select(_MARKS).where(_MARKS.c.path.in_(wanted[start : start + _CHUNK]))
        for row in conn.execute(query):
            skipped = tuple(sorted((str(k), int(v)) for k, v in (row.skipped or {}).items()))
            marks[row.path] = Mark(row.device, row.inode, row.size, row.mtime_ns, row.offset, skipped)
    return marks


def save_marks(conn: Connection, staged: dict[str, Mark], known: set[str], owners: dict[str, str]) -> None:
    """Write the marks of this transaction's reads (``known``: the paths that already have a row)."""
    now = utcnow()
    rows = [
        {
            "path": path,
            "session_id": owners.get(path),
            "device": mark.device,
            "inode": mark.inode,
            "size": mark.size,
            "mtime_ns": mark.mtime_ns,
            "offset": mark.offset,
            "skipped": dict(mark.skipped),
            "read_at": now,
        }
        for path, mark in staged.items()
        if len(path) <= MARK_PATH_MAX
    ]
    new = [row for row in rows if row["path"] not in known]
    old = [{**row, "_path": row["path"]} for row in rows if row["path"] in known]
    if new:
        insert_rows(conn, _MARKS, new)
    if old:
        names = ["session_id", "device", "inode", "size", "mtime_ns", "offset", "skipped", "read_at"]
        statement = update(_MARKS).where(_MARKS.c.path == bindparam("_path"))
        conn.execute(statement.values({name: bindparam(name) for name in names}), old)


_SESSION_COLUMNS = ("transcript_path", "context_tokens", "cost_usd", "cost_source", "models")
_AGENT_COLUMNS = (
    "session_id",
    "transcript_path",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "cost_usd",
    "unpriced_models",
)


def refresh_sessions(db: Session, session_ids: Iterable[str], cache: TranscriptCache) -> None:
    """Read the changed transcripts of these sessions and their subagents into the store (not committed).

    Session and subagent rows are plain dicts, read and written back in bulk (:class:`RowSet`): as ORM objects,
    loading them and flushing their totals cost ~1 s of an import of 10,000 sessions (py-spy: 12% of it).
    """
    wanted = sorted(set(session_ids))
    conn = db.connection()
    for start in range(0, len(wanted), _CHUNK):
        chunk = set(wanted[start : start + _CHUNK])
        session_rows = RowSet(AgentSession, "session_id")
        session_rows.load(conn, chunk, _SESSION_COLUMNS)
        agent_rows = RowSet(SubagentRun, "agent_id")
        agent_rows.load(conn, chunk, _AGENT_COLUMNS, by="session_id")
        # Sessions by id, each one's subagents by agent id: the order the importer's read-ahead plans for.
        sessions = [session_rows.rows[key] for key in sorted(session_rows.rows)]
        agents: dict[str, list[Row]] = {}
        for key in sorted(agent_rows.rows):
            agents.setdefault(agent_rows.rows[key]["session_id"], []).append(agent_rows.rows[key])
        owners = {s["transcript_path"]: s["session_id"] for s in sessions if s["transcript_path"]}
        owners |= {a["transcript_path"]: a["session_id"] for a in agent_rows.rows.values() if a["transcript_path"]}
        stored = load_marks(conn, list(owners))
        cache.know(stored)
        writes = _Writes(conn)
        changed = [s for s in sessions if _read(s, agents.get(s["session_id"], []), cache, writes)]
        writes.write()
        _totals(conn, changed, agents)
        session_rows.touched.update(s["session_id"] for s in changed)
        agent_rows.touched.update(a["agent_id"] for s in changed for a in agents.get(s["session_id"], []))
        session_rows.write(conn)
        agent_rows.write(conn)
        staged = {path: mark for path, mark in cache.staged().items() if path in owners and stored.get(path) != mark}
        save_marks(conn, staged, set(stored), owners)


def refresh_recent_sessions(db: Session, cache: TranscriptCache, since: datetime) -> None:
    """Look again at the transcripts of sessions with events since ``since`` (not committed).

    Transcripts change without a hook event to say so: the last lines of a turn, a subagent running in
    the background. Unchanged files cost a ``stat`` with a long-lived ``cache``.
    """
    query = select(AgentSession.session_id).where(col(AgentSession.last_event_at) >= since)
    refresh_sessions(db, db.exec(query).all(), cache)
