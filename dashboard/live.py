"""Live updates: one watcher polls the store's high-water marks, and ``/events`` streams changes as SSE.

A poll is one statement of ``max(...)`` look-ups, on primary keys and indexed times (index seeks) except the
sessions' ``last_event_at`` (one scan of the small session table), run only while at least one page listens,
however many pages are open.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import StreamingResponse

from dashboard.marks import store_marks
from dashboard.page_table import topics_by_mark
from dashboard.pages import PAGES
from server.json_output import dumps

__all__ = ["StoreWatcher", "events_endpoint", "store_marks", "topics_changed"]

logger = logging.getLogger(__name__)

HEARTBEAT_S = 15.0

TOPICS: Mapping[str, tuple[str, ...]] = topics_by_mark(PAGES)
"""Which page topics each high-water mark feeds, built from each page's ``marks`` in ``dashboard.pages.PAGES``.
(Ingest updates rows in place, a PostToolUse finishing its tool call, a Stop setting the session's cost; every such
update comes with a new raw event, hence ``raw_event`` on the pages showing sessions and tools.)"""


def topics_changed(
    before: Mapping[str, str], after: Mapping[str, str], topics_of: Mapping[str, tuple[str, ...]] = TOPICS
) -> list[str]:
    """The page topics whose data differ between two sets of marks, sorted (``topics_of``: mark to topics)."""
    changed = {
        topic for table, topics in topics_of.items() if before.get(table) != after.get(table) for topic in topics
    }
    return sorted(changed)


class StoreWatcher:
    """Polls :func:`store_marks` while someone listens and wakes every listener when they move."""

    def __init__(self, engine: Engine, interval_s: float, topics: Mapping[str, tuple[str, ...]] = TOPICS) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.topics = topics
        self.marks: dict[str, str] = {}
        self._changed = anyio.Event()
        self._listeners = 0
        self._someone_listens = anyio.Event()
        self._announced: list[tuple[int, str]] = []
        self._sequence = 0
        self.failed_polls = 0

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def announce(self, topic: str) -> None:
        """Tell every listening page that ``topic`` has new data (e.g. a view finished rebuilding)."""
        self._sequence += 1
        self._announced.append((self._sequence, topic))
        del self._announced[:-100]
        self._wake()

    def _announced_since(self, sequence: int) -> set[str]:
        return {topic for number, topic in self._announced if number > sequence}

    async def poll_once(self) -> None:
        """Read the marks; if they moved, wake the listeners."""
        marks = await anyio.to_thread.run_sync(store_marks, self.engine)
        if marks != self.marks:
            self.marks = marks
            self._wake()

    async def run(self) -> None:
        """Poll forever (until cancelled), sleeping while no page listens."""
        failing = False
        while True:
            if self._listeners == 0:
                await self._someone_listens.wait()
            try:
                await self.poll_once()
            except Exception:
                # A locked or unreachable store delays updates; the page keeps what it shows. Logged once per
                # outage, not once a second.
                if not failing:
                    logger.exception("dashboard: polling the store for changes failed; retrying quietly")
                failing = True
                self.failed_polls += 1
            else:
                if failing:
                    logger.warning("dashboard: the store answers again")
                failing = False
            await anyio.sleep(self.interval_s)

    async def listen(self) -> AsyncGenerator[str]:
        """SSE frames: ``change`` events naming the topics that moved, and heartbeats."""
        self._listeners += 1
        self._someone_listens.set()
        try:
            if not self.marks:
                try:
                    await self.poll_once()
                except Exception:
                    # The stream opens anyway; run() keeps polling and the first answer refreshes the page.
                    logger.debug("dashboard: the store did not answer a new listener", exc_info=True)
            seen = dict(self.marks)
            cursor = self._sequence
            yield _frame("hello", {"marks": seen})
            while True:
                changed = self._changed
                # Something may have moved while the last frame was being sent: report it without waiting.
                if not topics_changed(seen, self.marks, self.topics) and not self._announced_since(cursor):
                    with anyio.move_on_after(HEARTBEAT_S):
                        await changed.wait()
                topics = sorted({*topics_changed(seen, self.marks, self.topics), *self._announced_since(cursor)})
                seen, cursor = dict(self.marks), self._sequence
                if topics:
                    yield _frame("change", {"topics": topics})
                else:
                    yield ": heartbeat\n\n"
        finally:
            self._listeners -= 1
            if self._listeners == 0:
                self._someone_listens = anyio.Event()


def _frame(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {dumps(data, separators=(',', ':'))}\n\n"


async def events_endpoint(request: Request) -> StreamingResponse:
    """``GET /events``: the server-sent event stream of store changes."""
    watcher: StoreWatcher = request.app.state.watcher
    return StreamingResponse(
        watcher.listen(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
