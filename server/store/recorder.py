"""One writer for every record a tool call leaves (delegate, consensus, and the learning and search work to come).

Usage, from any engine::

    runtime.recorder.record(rows, thread=(thread_id, session_id), settle=[reservation_id])

``record`` returns at once: the rows are written behind the response, by one worker thread per recorder, several
calls' batches in one transaction. A call's answer never waits for the store and never fails because of it.
A batch that cannot be written (SQLite write lock held by another process past the busy timeout, PostgreSQL
lock timeout, store unreachable) is kept durably under ``$SWITCHBOARD_HOME/spool/records/`` (Maildir-style like
the hook spool, files 0600) and lands exactly once (its id goes into ``record_batch`` in the same transaction)
on this recorder's next write or on the next ``switchboard ingest``.

Readers that must see what this process just recorded (``get_output``, a thread's history, ``stats``) first
``await recorder.settled()``. :meth:`Recorder.close` writes or spills what is left; only a batch queued when
the process is killed (milliseconds' worth) can be lost.

Measured reason for a hand-written worker rather than ``anyio.to_thread`` per call: the inline ORM write was
most of the engine's 5.3 ms share of a delegate call (bench/bench_delegate.py); a queue handoff costs ~20 µs.

This module imports no SQLAlchemy (the server builds its runtime before answering ``initialize``); the writing
itself is :mod:`server.store.record_batches`, imported by the worker thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import SQLModel

__all__ = ["Batch", "Recorder"]

logger = logging.getLogger(__name__)

_LIVE: weakref.WeakSet[Recorder] = weakref.WeakSet()


@dataclass
class Batch:
    """Rows of one call, written together: ``thread`` = (thread_id, session_id) is created or bumped,
    ``settle`` names budget reservations that these rows replace."""

    rows: list[SQLModel]
    thread: tuple[str, str | None] | None = None
    settle: list[str] = field(default_factory=list[str])
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    session_id: str | None = None


class Recorder:
    """Writes batches of rows behind the response; see the module docstring."""

    def __init__(self, engine: Callable[[], Engine], records_dir: Path, *, lock_timeout_s: float = 5.0) -> None:
        self._engine = engine
        self.records_dir = records_dir
        self.lock_timeout_s = lock_timeout_s
        self._queue: queue.SimpleQueue[Batch | None] = queue.SimpleQueue()
        self._done = threading.Condition()
        self._queued = 0
        self._finished = 0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._replay_due = True  # batches an earlier process left behind land on our first write
        self.spilled = 0
        """Batches this recorder had to keep in the spool (for tests and logs)."""
        _LIVE.add(self)

    @staticmethod
    def wait_all_idle(timeout_s: float = 30.0) -> bool:
        """Wait for every recorder of this process to be idle: for code that reads the store without a runtime
        at hand (tests, a CLI command run in-process) and must see what was just recorded."""
        return all(recorder.wait_idle(timeout_s) for recorder in list(_LIVE))

    def record(
        self,
        rows: Sequence[SQLModel],
        *,
        thread: tuple[str, str | None] | None = None,
        settle: Sequence[str] = (),
        session_id: str | None = None,
    ) -> None:
        """Queue ``rows`` for writing in one transaction; returns at once."""
        if not rows and thread is None and not settle:
            return
        batch = Batch(list(rows), thread, list(settle), session_id=session_id)
        with self._done:
            self._queued += 1
        self._ensure_worker()
        self._queue.put(batch)

    def idle(self) -> bool:
        """Whether every queued batch is written or spilled."""
        with self._done:
            return self._finished >= self._queued

    def wait_idle(self, timeout_s: float | None = None) -> bool:
        """Block until every batch queued so far is written or spilled; False if ``timeout_s`` passed first."""
        with self._done:
            target = self._queued
            return self._done.wait_for(lambda: self._finished >= target, timeout=timeout_s)

    async def settled(self, timeout_s: float | None = None) -> bool:
        """:meth:`wait_idle` without blocking the event loop (free when nothing is queued)."""
        if self.idle():
            return True
        return await anyio.to_thread.run_sync(self.wait_idle, timeout_s, abandon_on_cancel=True)

    def close(self, timeout_s: float = 30.0) -> None:
        """Write what is queued (spilling what cannot be written) and stop the worker."""
        thread = self._thread
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout_s)
        self._thread = None

    def _ensure_worker(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="switchboard-recorder", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batches: list[Batch] = [] if first is None else [first]
            stop = first is None
            while not stop:  # take what else is queued: one transaction for all
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                else:
                    batches.append(more)
            if batches:
                self._write(batches)
            if stop:
                return

    def _write(self, batches: list[Batch]) -> None:
        from server.store import record_batches
        from server.store.stored_text import redact_rows

        try:
            for batch in batches:  # here, in the worker: a long answer's redaction never holds up the event loop
                redact_rows(batch.rows)  # before the store or the spool file sees them
            record_batches.write(self._engine(), batches, lock_timeout_s=self.lock_timeout_s)
        except Exception as exc:  # whatever the store says, the rows must not be lost
            self.spilled += len(batches)
            self._replay_due = True
            logger.warning(
                "store busy or unreachable (%s): %d batch(es) wait in %s", exc, len(batches), self.records_dir
            )
            record_batches.spill(self.records_dir, batches)
        else:
            if self._replay_due:
                self._replay_due = False
                self._replay()
        finally:
            with self._done:
                self._finished += len(batches)
                self._done.notify_all()

    def _replay(self) -> None:
        from server.store import record_batches

        try:
            record_batches.replay(self._engine(), self.records_dir, lock_timeout_s=self.lock_timeout_s)
        except Exception:
            self._replay_due = True
            logger.warning("spilled records could not land yet", exc_info=True)
