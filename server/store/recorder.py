"""One writer for every record a tool call leaves (delegate, consensus, solve, feedback).

Usage, from any engine::

    runtime.recorder.record(rows, thread=(thread_id, session_id), settle=[reservation_id])

``record`` appends the batch to this recorder's write-ahead log under ``$SWITCHBOARD_HOME/spool/records/log/``
(:mod:`server.store.record_log`) and returns: the rows reach the store behind the response, by one worker thread
per recorder, several calls' batches in one transaction. A call's answer never waits for the store and never
fails because of it, and once it is returned its rows are on disk: a process ended at once (Claude Code ends MCP
servers ~100 ms after it exits; a kill) loses nothing. A batch the store cannot take yet (SQLite write lock held
by another process, PostgreSQL lock timeout, store unreachable) is also kept as a file in ``spool/records/new/``
(Maildir-style like the hook spool, files 0600, fsynced), and lands exactly once (its id goes into
``record_batch`` in the same transaction) on this recorder's next write or on the next ``switchboard ingest``,
as does every batch of a log whose process ended before writing it.

Readers that must see what this process just recorded (``get_output``, a thread's history, ``stats``) first
``await recorder.settled()``. :meth:`Recorder.close` gives the worker a moment to land what is queued and never
waits on the store's lock: what is queued is on disk already.

Measured reason for a hand-written worker rather than ``anyio.to_thread`` per call: the inline ORM write was
most of the engine's 5.3 ms share of a delegate call (bench/bench_delegate.py); a queue handoff costs ~20 µs, the
write-ahead line ~30 µs (JSON) plus ~2 µs (the write).

This module imports no SQLAlchemy (the server builds its runtime before answering ``initialize``); the writing
itself is :mod:`server.store.record_batches`, imported on the first record (after the handshake).
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

    from server.store.record_log import WriteAheadLog

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
    log: str | None = field(default=None, compare=False)
    """The name of the write-ahead log the batch is in, if any."""


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
        self._log: WriteAheadLog | None = None
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
        """Write ``rows`` ahead to the spool and queue them for the store, in one transaction; returns at once."""
        if not rows and thread is None and not settle:
            return
        batch = Batch(list(rows), thread, list(settle), session_id=session_id)
        with self._done:
            self._queued += 1
        self._write_ahead(batch)
        self._ensure_worker()
        self._queue.put(batch)

    def _write_ahead(self, batch: Batch) -> None:
        if self._log is None:
            from server.store.record_log import WriteAheadLog

            self._log = WriteAheadLog(self.records_dir)
        try:
            self._log.append(batch)
        except OSError:  # the answer still goes out; the worker will still try the store
            logger.exception("could not write batch %s ahead in %s", batch.id, self.records_dir)

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

    def close(self, timeout_s: float = 2.0) -> None:
        """Give the worker up to ``timeout_s`` to land what is queued, and stop it.

        Never waits on the store's lock beyond that: what is still queued is in the spool, and lands on the next
        write of any recorder or the next ingest.
        """
        thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout_s)
            self._thread = None
        if self._log is not None:
            self._log.close()  # removed if all landed, else left for the next ingest or recorder

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
                redact_rows(batch.rows)  # before the store sees them, or the spool keeps them for long
            record_batches.write(self._engine(), batches, lock_timeout_s=self.lock_timeout_s)
        except Exception as exc:  # whatever the store says, the rows must not be lost
            self.spilled += len(batches)
            self._replay_due = True
            logger.warning(
                "store busy or unreachable (%s): %d batch(es) wait in %s", exc, len(batches), self.records_dir
            )
            record_batches.spill(self.records_dir, batches)  # redacted and fsynced, apart from the log
        else:
            if self._replay_due:
                self._replay_due = False
                self._replay()
        finally:
            if self._log is not None:
                self._log.resolve(batches)
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
