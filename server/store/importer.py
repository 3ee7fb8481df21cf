"""``switchboard import``: sessions Claude Code ran before switchboard was installed, from their transcripts.

Claude Code keeps every session's transcript under ``projects/<folder>/<session id>.jsonl`` and each
subagent's under ``<session id>/subagents/agent-<agent id>.jsonl``. Import makes the ``session`` and
``subagent_run`` rows hooks would have made (only where they are missing), then hands the sessions to
ingest's own :func:`~server.store.usage_rows.refresh_sessions`: usage, per-model rows and the cost of
record come from the same code as for captured sessions. Usage is deduplicated on message and request
id and totals are recomputed, so importing twice adds nothing.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
from collections.abc import Callable, Generator, Sequence
from contextlib import closing, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from server.store.models import AgentSession, SubagentRun
from server.store.read_ahead import COLLECT_EVERY, ReadAhead, worth_a_worker
from server.store.row_set import RowSet
from server.store.transcript_files import IMPORT_BATCH, TranscriptFile, find_transcripts, transcript_paths
from server.store.transcripts import TranscriptCache, load_line, open_regular, projects_dir
from server.store.usage_rows import load_marks, refresh_sessions
from server.team import stamp_values

__all__ = ["ImportReport", "TranscriptFile", "find_transcripts", "import_transcripts", "projects_dir"]

_HEAD_LINES = 50
_TAIL_BYTES = 64 * 1024
_TAILS = (4 * 1024, _TAIL_BYTES)
"""How much of a transcript's end is read for its last time: the last few KB first (nearly always enough), then
64 KB. Reading 64 KB of each of 10,000 ~90 KB transcripts was 6% of their import (py-spy); a timestamp found in
the shorter tail is the one the longer would give (lines are scanned from the end, and a line the shorter tail
cuts is no JSON object)."""
_LINE_CAP = 1 << 20
"""Lines longer than this (a pasted file) are skipped when looking for the session's folder and times."""
_BATCH = IMPORT_BATCH


def _record(raw: bytes) -> dict[str, Any] | None:
    return None if len(raw) > _LINE_CAP else load_line(raw)


def _time(record: dict[str, Any] | None) -> datetime | None:
    value = record.get("timestamp") if record else None
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass
class _Facts:
    cwd: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


def _facts(path: Path) -> _Facts:
    """The session's folder and first time from its first lines, its last time from its last lines."""
    facts = _Facts()
    with open_regular(path) as lines:  # a FIFO swapped in after the scan is refused, never waited on
        for _ in range(_HEAD_LINES):
            raw = lines.readline(_LINE_CAP + 1)  # bounded: a pasted image can make one line megabytes long
            if not raw:
                break
            record = _record(raw)
            facts.cwd = facts.cwd or (record or {}).get("cwd")
            facts.started_at = facts.started_at or _time(record)
            if facts.cwd and facts.started_at:
                break
        size = lines.seek(0, os.SEEK_END)
        for tail in _TAILS:
            lines.seek(max(0, size - tail))
            for raw in reversed(lines.read(tail).split(b"\n")):
                facts.ended_at = _time(_record(raw))
                if facts.ended_at is not None:
                    break
            if facts.ended_at is not None or tail >= size:
                break
    if not isinstance(facts.cwd, str):
        facts.cwd = None
    return facts


def _session_row(found: TranscriptFile, sessions: RowSet, agents: RowSet) -> None:
    """Make the session's row and its subagents' where missing; give a row without a transcript path this one."""
    row = sessions.rows.get(found.session_id)
    if row is None:
        facts = _facts(found.path)
        row = sessions.get(found.session_id)
        row["started_at"], row["ended_at"], row["last_event_at"] = facts.started_at, facts.ended_at, facts.ended_at
        if facts.cwd:
            row["cwd"], row["project"] = facts.cwd, (os.path.basename(facts.cwd.rstrip("/\\")) or facts.cwd)[:500]
        stamp_values(row)
    if row["transcript_path"] is None:
        sessions.get(found.session_id)["transcript_path"] = str(found.path)
    for agent_id, path in found.subagents.items():
        agent = agents.rows.get(agent_id[:200])
        if agent is None:
            times = _facts(path)
            agent = agents.get(agent_id[:200], session_id=found.session_id, transcript_path=str(path))
            agent["started_at"], agent["stopped_at"] = times.started_at, times.ended_at
            agent["agent_type"] = _agent_type(path)
        elif agent["transcript_path"] is None:
            agents.get(agent_id[:200])["transcript_path"] = str(path)


def _agent_type(transcript: Path) -> str | None:
    """``agentType`` from the ``agent-<id>.meta.json`` Claude Code 2.1 keeps beside a subagent's transcript."""
    meta = transcript.with_name(transcript.name.removesuffix(".jsonl") + ".meta.json")
    try:
        if not meta.is_file() or meta.stat().st_size > _LINE_CAP:
            return None
        record = _record(meta.read_bytes())
    except OSError:
        return None
    value = (record or {}).get("agentType")
    return value[:200] if isinstance(value, str) and value else None


@dataclass
class ImportReport:
    """What one import did."""

    sessions: int = 0
    subagents: int = 0
    new_sessions: int = 0
    skipped: list[str] = field(default_factory=list[str])


Progress = Callable[[int, int], None]


def _unchanged(item: TranscriptFile, sessions: RowSet, cache: TranscriptCache) -> bool:
    """Whether the session is imported and none of its transcripts changed since they were read."""
    row = sessions.rows.get(item.session_id)
    if row is None or row["transcript_path"] != str(item.path):
        return False
    return all(cache.is_unchanged(path) for path in transcript_paths(item))


def _import_batch(
    db: Session, batch: list[TranscriptFile], report: ImportReport, read_ahead: ReadAhead | None = None
) -> int:
    """Import one batch in the open transaction; returns how many sessions it holds."""
    conn = db.connection()
    sessions, agents = RowSet(AgentSession, "session_id"), RowSet(SubagentRun, "agent_id")
    # Only what is needed to tell which changed: a second import of 10,000 unchanged sessions spent 0.32 of
    # its 1.2 s loading whole rows (JSON and times decoded).
    sessions.load(conn, {item.session_id for item in batch}, ["transcript_path"])
    agent_ids = {agent_id[:200] for item in batch for agent_id in item.subagents}
    agents.load(conn, agent_ids, ["session_id", "transcript_path"])
    cache = TranscriptCache(read_ahead)
    cache.know(load_marks(conn, [path for item in batch for path in transcript_paths(item)]))
    changed: list[str] = []
    done = 0
    for item in batch:
        if _unchanged(item, sessions, cache):
            done += 1
            continue
        is_new = item.session_id not in sessions.rows
        try:
            _session_row(item, sessions, agents)
        except OSError as exc:
            report.skipped.append(f"{item.path}: {exc.strerror or type(exc).__name__}")
            continue
        changed.append(item.session_id)
        done += 1
        report.new_sessions += is_new
        report.subagents += len(item.subagents)
    if read_ahead is not None:
        read_ahead.plan(cache, _reads(changed, sessions, agents))
    sessions.write(conn)
    agents.write(conn)
    refresh_sessions(db, changed, cache)
    return done


def _reads(changed: list[str], sessions: RowSet, agents: RowSet) -> list[tuple[str, str | None]]:
    """The transcripts :func:`refresh_sessions` reads for these sessions, in its order: sessions by id, each
    one's subagents by agent id, then its main transcript."""
    mine: dict[str, list[dict[str, Any]]] = {}
    for agent in agents.rows.values():
        mine.setdefault(agent["session_id"], []).append(agent)
    reads: list[tuple[str, str | None]] = []
    for session_id in sorted(set(changed)):
        for agent in sorted(mine.get(session_id, []), key=lambda agent: agent["agent_id"]):
            if agent["transcript_path"]:
                reads.append((agent["transcript_path"], agent["agent_id"]))
        if path := sessions.rows[session_id]["transcript_path"]:
            reads.append((path, None))
    return reads


_SQLITE_BULK = {"cache_size": -16 * 1024, "wal_autocheckpoint": 10_000}
"""SQLite settings of an import's connection, put back after: a 16 MiB page cache (the default is 2 MiB: inserting
into the unique index on message and request id, in no order, read its pages back again and again) and a
checkpoint every ~40 MB of WAL rather than every ~4 MB (each one syncs the file). 244,367 usage rows inserted a
1,000 sessions at a time: 2.30-2.43 -> 1.82-1.86 s; a 10,000-session import, min of 4 side by side: 8.36 -> 8.25 s
wall, 1.9 -> 1.35 s of system time, 90 -> 106 MB peak memory. With :class:`_Checkpoints` at work, no checkpoint in
the import's own commits at all (``wal_autocheckpoint`` 0)."""


class _Checkpoints:
    """The WAL of an import's SQLite file moved into the store by a thread after each batch's commit, while this
    process writes the next batch (SQLite's own checkpoints ran inside the commits, in this process's time).

    A ``PASSIVE`` checkpoint on a connection of its own: it copies what is committed, waits for no one, and a store
    another process holds is left for a later one. The last batch's pages are checkpointed when the store closes.
    10,000 sessions side by side, medians of 5 rounds: 5.68 -> 5.39 s (6.01 -> 5.85 s in another run).
    """

    def __init__(self, engine: Engine) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        plain = database and database != ":memory:" and not database.startswith("file:")
        self.uri = f"file:{quote(os.path.abspath(database))}?mode=rw" if plain and database else None
        self._thread: threading.Thread | None = None

    def after_commit(self) -> None:
        """Start a checkpoint, unless one is still running (the next commit's will take both batches)."""
        if self.uri is None or (self._thread is not None and self._thread.is_alive()):
            return
        name = "switchboard-import-checkpoint"
        self._thread = threading.Thread(target=self._checkpoint, args=(self.uri,), name=name, daemon=True)
        self._thread.start()

    def _checkpoint(self, uri: str) -> None:
        with suppress(sqlite3.Error), closing(sqlite3.connect(uri, uri=True, timeout=0)) as db:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join()


@contextmanager
def _bulk_writes(db: Session, checkpoints: _Checkpoints) -> Generator[None]:
    """:data:`_SQLITE_BULK` on ``db``'s connection while it writes an import's batch."""
    conn = db.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    wanted = {**_SQLITE_BULK, "wal_autocheckpoint": 0} if checkpoints.uri else _SQLITE_BULK
    before = {name: int(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()) for name in wanted}
    for name, value in wanted.items():
        conn.exec_driver_sql(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        for name, value in before.items():
            with suppress(SQLAlchemyError):  # a connection already broken goes back to the pool as it is
                db.connection().exec_driver_sql(f"PRAGMA {name} = {value}")


@contextmanager
def _fewer_collections() -> Generator[None]:
    """Python's collector kept out of an import's way; its thresholds and frozen objects put back after.

    An import makes and drops millions of small acyclic objects (rows, tuples, dicts), each 700 of which started
    a collection that walked every object alive, SQLAlchemy's and the models' among them. What was alive before the
    import is frozen out of the collector (``gc.freeze``), and a collection waits for 10,000 new objects. 10,000
    sessions, each switched on in turn (in a wrapper that loaded more modules): 0.72 s of collection -> 0.29 s
    frozen -> 0.04 s with the threshold too; 6.07 -> 5.57 -> 5.38 s wall, the same peak memory (108 MB). The
    command itself, the commit before against this one: 0.89-0.95 -> 0.16-0.18 s of collection.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*COLLECT_EVERY)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def import_transcripts(
    engine: Engine,
    root: Path,
    progress: Progress | None = None,
    found: list[TranscriptFile] | None = None,
    read_ahead: ReadAhead | None = None,
    unnamed: Sequence[str] = (),
) -> ImportReport:
    """Import every transcript under ``root`` (or those ``found`` there earlier, with the paths that scan left out
    as not UTF-8 in ``unnamed``), committing every few sessions.

    A session whose transcripts are unchanged since they were read (``transcript_mark``) costs a ``stat`` per
    file; an appended transcript is read from where the last read stopped. ``progress(done, total)`` is called
    after each batch. Transcripts are parsed by ``read_ahead``'s worker (the caller's, or one started here
    when the machine has a second core) while the rows of the ones before are written.
    """
    report = ImportReport(skipped=list(unnamed))
    found = list(find_transcripts(root, report.skipped)) if found is None else found
    own = ReadAhead() if read_ahead is None and worth_a_worker() else nullcontext(read_ahead)
    checkpoints = _Checkpoints(engine)
    with own as read_ahead, _fewer_collections():
        try:
            for start in range(0, len(found), _BATCH):
                with Session(engine) as db, _bulk_writes(db, checkpoints):
                    report.sessions += _import_batch(db, found[start : start + _BATCH], report, read_ahead)
                    db.commit()
                checkpoints.after_commit()
                if progress is not None:
                    progress(min(start + _BATCH, len(found)), len(found))
        finally:
            checkpoints.close()
    return report
