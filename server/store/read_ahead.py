"""Transcripts parsed in a worker process while this one writes the rows of the ones before.

A first ``switchboard import`` spends about as long parsing transcripts (reading lines, orjson, usage) as
writing their rows and totals; on one core it does one after the other. :class:`ReadAhead` hands the
transcripts an import is about to read, in the order it reads them and a few at a time, to one worker
process, so on a machine with a second core the two overlap. A read is taken from the worker only when the file
is still the one planned for (same device, inode, size, mtime and start offset); anything else, and a worker
that died, is read here as before. What is stored does not depend on where a transcript was parsed.

The worker is started with ``spawn``, never ``fork`` (the importing process holds database connections and may
hold threads), and as a child of this process, which waits for it: its CPU time counts in this process's
children's, where a benchmark reads it (a ``forkserver`` worker's is lost with the server).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from types import TracebackType

from server.store.transcripts import PackedTranscript, Transcript, TranscriptCache, read_transcripts, unpack

__all__ = ["COLLECT_EVERY", "START_WINDOW", "ReadAhead", "worth_a_worker"]

WINDOW = 8
"""Chunks handed to the worker ahead of the one read now: enough to keep it busy, few enough that parsed
transcripts waiting to be written stay a few MB. At 3, an import of 10,000 small sessions waited 1.34 s on the
worker (0.45 s at 8): side by side 7.96-8.41 -> 7.25-7.64 s; 24 gave no more; 40 sessions of ~6 MB the same, with
the same peak memory."""
START_WINDOW = 32
"""Chunks handed to the worker with a plan made before this process can take anything (a first import's, while
it loads SQLAlchemy and opens the store): ~64 MB of transcripts, more than the worker parses meanwhile."""
CHUNK_BYTES = 2 * 1024 * 1024
CHUNK_READS = 200
"""A chunk is about this many bytes to read, or this many transcripts: one task per small transcript cost more in
the hand-over than the parse (10,000 sessions of 23 requests: 26.7 CPU s, against 20.1 read here and 20.9 in
chunks)."""

COLLECT_EVERY = (10_000, 10, 10)
"""Python's collector thresholds in the worker and, while it imports, the importing process (Python's are 700, 10,
10): both make and drop millions of small acyclic objects."""

_Identity = tuple[int, int, int, int, int]
_Read = tuple[PackedTranscript, int] | OSError


def worth_a_worker() -> bool:
    """Whether a second core can take the parsing (a worker on the only core would only add its start-up)."""
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return len(cores) > 1


def _warm_up() -> None:
    """The worker's start: what parsing and pricing need imported, then those modules kept out of the collector.

    The worker's objects are a few long-lived modules and short-lived parsed lines (acyclic), and its collections
    kept walking the modules: frozen (``gc.freeze``), and a collection every 10,000 new objects, not 700. 40
    sessions parsed in one process: 0.077 s of collection -> 0.022-0.034 s frozen -> under 0.005 s.
    """
    import server.pricing  # noqa: F401  # pyright: ignore[reportUnusedImport]

    gc.freeze()
    gc.set_threshold(*COLLECT_EVERY)


def _started() -> None:
    """A task that only has the worker started (its :func:`_warm_up` runs first)."""


def _identity(info: os.stat_result, offset: int) -> _Identity:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, offset)


class ReadAhead:
    """Reads planned by :meth:`plan`, run in a worker process, taken by ``TranscriptCache.read_if_changed``.

    Use as a context manager: the worker is started on the first read handed to it and stopped on exit.
    """

    def __init__(self, window: int = WINDOW, executor: Executor | None = None) -> None:
        self._window = window
        self._executor = executor
        self._own_executor = executor is None
        self._queue: deque[tuple[str, str | None]] = deque()
        self._pending: dict[str, tuple[_Identity, str | None, Future[list[_Read]], int]] = {}
        self._out: dict[Future[list[_Read]], int] = {}
        """The chunks handed to the worker, with how many of their reads are not taken yet (counting them from
        ``_pending`` on every take was ~1% of a 10,000-session import)."""
        self._cache: TranscriptCache | None = None
        self.taken = 0
        """Reads that came from the worker (the rest were read here)."""

    def __enter__(self) -> ReadAhead:
        return self

    def start(self) -> None:
        """Start the worker now, and have it import what pricing needs (~0.2 s): a caller that has its own
        start-up ahead (the import command loading SQLAlchemy) overlaps the two."""
        with suppress(BrokenProcessPool):
            self._pool().submit(_started)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._drop_pending()
        self._queue.clear()
        if self._own_executor and self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def plan(self, cache: TranscriptCache, reads: Iterable[tuple[str, str | None]], ahead: int | None = None) -> None:
        """The transcripts ``cache`` reads next, in order, as (path, agent id); replaces an earlier plan.

        Reads of the earlier plan already handed to the worker are kept when this one has them too (a read is
        still taken only for the file and offset it was made for). ``ahead``: hand the worker this many chunks
        now rather than :attr:`_window` (a plan made before this process can take anything).
        """
        reads = list(reads)
        planned = {path for path, _agent_id in reads}
        kept = {path: entry for path, entry in self._pending.items() if path in planned}
        out = Counter(entry[2] for entry in kept.values())
        for future in self._out.keys() - out.keys():
            future.cancel()
        self._pending, self._out = kept, dict(out)
        self._cache = cache
        self._queue = deque(read for read in reads if read[0] not in kept)
        self._fill(ahead)

    def take(self, path: str, agent_id: str | None, info: os.stat_result, offset: int) -> tuple[Transcript, int] | None:
        """The worker's read of ``path`` from ``offset``, if it was planned for the file ``info`` describes.

        Raises:
            OSError: the worker could not read the file (as :func:`~server.store.transcripts.parse_transcript`).
        """
        entry = self._pending.pop(path, None)
        if entry is not None:
            self._taken_from(entry[2])
        self._fill()  # keep the worker busy while this one is handed over
        if entry is None:
            return None
        identity, planned_agent, future, index = entry
        if (identity, planned_agent) != (_identity(info, offset), agent_id):
            return None
        try:
            read = future.result()[index]
        except BrokenProcessPool:  # the worker died (killed, out of memory): read it here
            return None
        if isinstance(read, OSError):
            raise read
        self.taken += 1
        packed, end = read
        return unpack(packed), end

    def _taken_from(self, future: Future[list[_Read]]) -> None:
        left = self._out[future] - 1
        if left:
            self._out[future] = left
        else:
            del self._out[future]

    def _drop_pending(self) -> None:
        for future in self._out:
            future.cancel()
        self._pending.clear()
        self._out.clear()

    def _fill(self, window: int | None = None) -> None:
        """Hand the next planned reads to the worker, a chunk at a time, until ``window`` (default
        :attr:`_window`) chunks are out."""
        cache = self._cache
        window = self._window if window is None else window
        while cache is not None and self._queue and len(self._out) < window:
            chunk: list[tuple[str, str | None, int]] = []
            identities: list[_Identity] = []
            size = 0
            while self._queue and size < CHUNK_BYTES and len(chunk) < CHUNK_READS:
                path, agent_id = self._queue.popleft()
                if path in self._pending or any(path == planned for planned, _agent, _offset in chunk):
                    continue
                try:
                    start = cache.start(path)
                except OSError:
                    continue  # read_if_changed will find it unreadable too
                if start is None:
                    continue
                info, _mark, offset = start
                chunk.append((path, agent_id, offset))
                identities.append(_identity(info, offset))
                size += info.st_size - offset
            if not chunk:
                return
            try:
                future = self._pool().submit(read_transcripts, chunk)
            except BrokenProcessPool:
                self._queue.clear()
                return
            for index, ((path, agent_id, _offset), identity) in enumerate(zip(chunk, identities, strict=True)):
                self._pending[path] = (identity, agent_id, future, index)
            self._out[future] = len(chunk)

    def _pool(self) -> Executor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_up
            )
        return self._executor
