"""Ingest: spooled hook events → the store, exactly once.

For each batch of spool files, in receive order: parse (a file that does not parse is quarantined with
the reason), redact secrets, then in ONE transaction insert the ``raw_event`` rows of events not stored
yet, merge them into the typed tables, and read the transcripts of the sessions they touched; commit;
only then unlink the files. A crash before the commit leaves the files for the next run; a crash after
it leaves files whose event ids are already stored, which the next run recognises and just unlinks.
A store that is locked or unreachable stops the run with the files still in the spool.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, col, func, select

from server.redact import may_hold_secrets, redact
from server.store.database import BUSY_TIMEOUT_MS
from server.store.driver_insert import sqlite_insert_many
from server.store.hook_rows import HookEvent, apply_events
from server.store.models import RawEvent, utcnow
from server.store.spool import BadEvent, Spool, SpoolEntry
from server.store.transcripts import TranscriptCache
from server.store.usage_rows import refresh_recent_sessions, refresh_sessions
from server.team import shares_prompts, withhold_prompt

__all__ = ["BATCH_SIZE", "RECENT_S", "IngestReport", "describe_store_error", "ingest_spool"]

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
RECENT_S = 3600.0
"""Sessions with events this recent get their transcripts checked on every run, events or not."""


@dataclass
class IngestReport:
    """What one ingest run did."""

    ingested: int = 0
    """Events stored by this run."""
    duplicates: int = 0
    """Spool files whose event was already stored (a previous run died between commit and unlink)."""
    quarantined: int = 0
    """Files moved to ``spool/quarantine/``."""
    remaining: int = 0
    """Files still in ``spool/new/`` when the run ended (new arrivals, or the store was unavailable)."""
    error: str | None = None
    """Why the run stopped early, e.g. the store is locked or unreachable; None when it finished."""
    busy: bool = False
    """True when nothing was done because another ingest held the lock (``error`` says which lock)."""

    def summary(self) -> str:
        """One line for people and logs."""
        text = (
            f"ingested {self.ingested} events, {self.duplicates} duplicates, "
            f"{self.quarantined} quarantined, {self.remaining} remaining"
        )
        return f"{text}; stopped: {self.error}" if self.error else text


def _parse(spool: Spool, entry: SpoolEntry) -> HookEvent:
    payload, text = spool.read(entry)
    if may_hold_secrets(text):
        payload = redact(payload)
    if not shares_prompts():
        payload = withhold_prompt(payload)  # before anything is stored: the raw event too
    name = payload.get("hook_event_name")
    session_id = payload.get("session_id")
    return HookEvent(
        event_id=entry.event_id,
        name=name[:100] if isinstance(name, str) and name else "unknown",
        session_id=session_id[:200] if isinstance(session_id, str) and session_id else None,
        received_at=entry.received_at,
        payload=payload,
    )


def _store(engine: Engine, events: list[HookEvent], cache: TranscriptCache, lock_timeout_ms: int) -> int:
    """Commit the events not stored yet; returns how many were new."""
    ids = [event.event_id for event in events]
    try:
        with Session(engine) as db:
            if engine.dialect.name == "postgresql":
                # PostgreSQL would wait for a lock forever; give up like SQLite's busy timeout does.
                db.exec(select(func.set_config("lock_timeout", f"{lock_timeout_ms}ms", True)))
            stored = set(db.exec(select(RawEvent.event_id).where(col(RawEvent.event_id).in_(ids))))
            fresh = [event for event in events if event.event_id not in stored]
            if fresh:
                _insert_raw_events(db.connection(), fresh, utcnow())
                refresh_sessions(db, apply_events(db.connection(), fresh), cache)
                if any(e.agent != "claude-code" for e in fresh):
                    from server.store.agents.hooked import read_named_logs

                    read_named_logs(db, fresh)
            db.commit()
    except BaseException:
        cache.discard()
        raise
    cache.commit()
    return len(fresh)


_RAW_EVENT: Table = RawEvent.__table__  # pyright: ignore[reportAttributeAccessIssue]
_RAW_COLUMNS = ("event_id", "session_id", "event_name", "received_at", "ingested_at", "payload")


def _payload_json(payload: dict[str, Any]) -> str:
    """What the ``payload`` column's JSON type writes (``json.dumps``), but by orjson where it can.

    A decoded payload holds str keys, str/int/float/bool/None, lists and dicts, and no NaN or infinity
    (:mod:`server.store.payload` keeps those as their text); orjson writes them as the same JSON values
    (compact, non-ASCII as UTF-8: read back equal) in 2.6-4.0 µs per bench_ingest event where ``json.dumps``
    took 19.1. What it refuses, an integer outside 64 bits or a lone surrogate, goes to ``json.dumps``.
    """
    try:
        return orjson.dumps(payload).decode()
    except orjson.JSONEncodeError:
        return json.dumps(payload)


def _insert_raw_events(conn: Connection, events: list[HookEvent], now: datetime) -> None:
    """One ``raw_event`` row per event, ``ingested_at`` ``now``.

    On SQLite through :func:`~server.store.driver_insert.sqlite_insert_many`, the payload serialised by
    :func:`_payload_json`; elsewhere through ``conn.execute(insert(...))``.
    """
    if conn.dialect.name != "sqlite":
        rows = [
            {
                "event_id": e.event_id,
                "session_id": e.session_id,
                "event_name": e.name,
                "received_at": e.received_at,
                "ingested_at": now,
                "payload": e.payload,
            }
            for e in events
        ]
        conn.execute(insert(_RAW_EVENT), rows)
        return
    values = ((e.event_id, e.session_id, e.name, e.received_at, now, _payload_json(e.payload)) for e in events)
    sqlite_insert_many(conn, _RAW_EVENT, _RAW_COLUMNS, values, bound={"payload"})


def _driver_message(exc: SQLAlchemyError | ValueError) -> str:
    if isinstance(exc, ValueError):  # its message may quote the value: name the kind of error only
        return exc.reason if isinstance(exc, UnicodeEncodeError) else "a value the store cannot hold"
    # The driver's own message: SQLAlchemy's str() would add the statement and its parameters (payloads).
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    return (str(original).strip().splitlines() or [""])[0]


def describe_store_error(exc: SQLAlchemyError) -> str:
    """A one-line, secret-free description of a database error."""
    from server.store.database import SchemaTooNew

    if isinstance(exc, SchemaTooNew):
        return str(exc)
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    return f"store unavailable ({type(original).__name__}: {_driver_message(exc)})"


# Errors of the store, not of the data: stop and retry later rather than blame an event.
_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def _store_or_isolate(
    engine: Engine,
    spool: Spool,
    events: list[HookEvent],
    entries: list[SpoolEntry],
    cache: TranscriptCache,
    report: IngestReport,
    lock_timeout_ms: int,
) -> bool:
    """Store a batch and unlink its files; False when the store is unavailable and ingest must stop.

    When the store rejects the batch itself (a constraint, a value it cannot hold), the events are
    retried one by one and the ones it rejects alone are quarantined: one bad event must not hold
    back the spool forever.
    """
    try:
        fresh = _store(engine, events, cache, lock_timeout_ms)
    except _UNAVAILABLE as exc:
        report.error = describe_store_error(exc)
        logger.warning("ingest stopped, events stay in the spool: %s", report.error)
        return False
    except (SQLAlchemyError, ValueError) as exc:
        # ValueError: a value the driver could not encode (UnicodeEncodeError is one) is the event's fault.
        if len(events) == 1:
            reason = f"the store rejected it ({type(exc).__name__}: {_driver_message(exc)})"
            logger.warning("quarantined %s: %s", entries[0].event_id, reason)
            spool.quarantine(entries[0].path, reason)
            report.quarantined += 1
            return True
        return all(
            _store_or_isolate(engine, spool, [event], [entry], cache, report, lock_timeout_ms)
            for event, entry in zip(events, entries, strict=True)
        )
    spool.remove(entries)
    report.ingested += fresh
    report.duplicates += len(events) - fresh
    return True


def ingest_spool(
    engine: Engine,
    spool: Spool,
    *,
    cache: TranscriptCache | None = None,
    batch_size: int = BATCH_SIZE,
    lock_timeout_ms: int = BUSY_TIMEOUT_MS,
) -> IngestReport:
    """Move every event in ``spool/new/`` into the store; see the module docstring for the guarantees.

    Args:
        engine: The store (migrated).
        spool: The spool to drain.
        cache: Transcript read marks kept across runs by long-lived processes; None reads them afresh.
        batch_size: Events per transaction.
        lock_timeout_ms: On PostgreSQL, how long to wait for a lock another transaction holds before
            giving up (SQLite's busy timeout is the engine's).

    Returns:
        The counts; ``error`` is set, and files stay in the spool, when the store could not be written.
    """
    cache = cache or TranscriptCache()
    report = IngestReport()
    report.quarantined += spool.sweep_tmp(time.time())
    entries = spool.pending()
    for start in range(0, len(entries), batch_size):
        events: list[HookEvent] = []
        parsed: list[SpoolEntry] = []
        for entry in entries[start : start + batch_size]:
            try:
                events.append(_parse(spool, entry))
                parsed.append(entry)
            except BadEvent as exc:
                spool.quarantine(entry.path, str(exc))
                report.quarantined += 1
            except (ValueError, RecursionError) as exc:  # what decode_payload did not foresee: blame the event
                spool.quarantine(entry.path, f"cannot be read as an event: {type(exc).__name__}")
                report.quarantined += 1
            except FileNotFoundError:
                continue  # taken by a concurrent ingest
            except OSError as exc:
                spool.quarantine(entry.path, f"unreadable: {exc.strerror or type(exc).__name__}")
                report.quarantined += 1
        if events and not _store_or_isolate(engine, spool, events, parsed, cache, report, lock_timeout_ms):
            break
    if report.error is None:
        _refresh_recent(engine, cache, report)
    report.remaining = spool.count_pending()
    return report


def _refresh_recent(engine: Engine, cache: TranscriptCache, report: IngestReport) -> None:
    try:
        with Session(engine) as db:
            refresh_recent_sessions(db, cache, utcnow() - timedelta(seconds=RECENT_S))
            db.commit()
    except SQLAlchemyError as exc:
        cache.discard()  # read them again next time
        report.error = describe_store_error(exc)
        logger.warning("could not refresh recent transcripts: %s", report.error)
    else:
        cache.commit()
