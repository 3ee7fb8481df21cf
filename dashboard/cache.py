"""A view cache keyed on the store's high-water marks: a page is computed once per change of the store.

Every open tab refreshes when the store changes; without this, N tabs would run the same analytics N times.
A view is reused while the marks (see :func:`dashboard.marks.store_marks`) stay the same and for at most
``max_age_s`` (windows such as "last 7 days" move with the clock). Concurrent requests for the same view
wait for one computation instead of starting their own.

Stale while revalidate: once the app runs (``attach``), a view that went out of date but is younger than
``serve_stale_s`` is answered at once from the cache while a background task rebuilds it; when the new value
is ready, ``on_refreshed(key)`` lets the live stream tell the pages to fetch it. A request therefore never
waits for the analytics behind a page that was already built once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import anyio
import anyio.abc
import anyio.to_thread
from sqlalchemy import Engine
from sqlmodel import Session

from dashboard.marks import store_marks
from dashboard.views import compute

__all__ = ["ViewCache"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class _Entry:
    marks: dict[str, str]
    made_at: float
    value: Any


class ViewCache:
    """The latest value of each view (by name and parameters), valid while the store has not changed."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_age_s: float = 30.0,
        serve_stale_s: float = 300.0,
        max_views: int = 256,
        on_refreshed: Callable[[Hashable], None] | None = None,
    ) -> None:
        self.engine = engine
        self.max_age_s = max_age_s
        self.serve_stale_s = serve_stale_s
        self.max_views = max_views
        self.on_refreshed = on_refreshed
        self.computed = 0
        self._entries: dict[Hashable, _Entry] = {}
        self._locks: dict[Hashable, anyio.Lock] = {}
        self._refreshing: set[Hashable] = set()
        self._tasks: anyio.abc.TaskGroup | None = None

    def attach(self, tasks: anyio.abc.TaskGroup | None) -> None:
        """Run background refreshes in ``tasks`` (the app's lifespan task group); None turns them off."""
        self._tasks = tasks

    def _fresh(self, entry: _Entry | None, marks: dict[str, str]) -> bool:
        return entry is not None and entry.marks == marks and time.monotonic() - entry.made_at < self.max_age_s

    async def get(self, key: Hashable, build: Callable[[Session], T]) -> T:
        """The view named ``key``: cached if the store is unchanged, else ``build`` run once in a thread."""
        marks = await anyio.to_thread.run_sync(store_marks, self.engine)
        entry = self._entries.get(key)
        if entry is not None and self._fresh(entry, marks):
            return cast(T, entry.value)
        if entry is not None and self._tasks is not None and time.monotonic() - entry.made_at < self.serve_stale_s:
            if key not in self._refreshing:
                self._refreshing.add(key)
                self._tasks.start_soon(self._refresh, key, build, marks)
            return cast(T, entry.value)
        return await self._build(key, build, marks)

    async def _build(self, key: Hashable, build: Callable[[Session], T], marks: dict[str, str]) -> T:
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            entry = self._entries.get(key)
            if entry is not None and self._fresh(entry, marks):
                return cast(T, entry.value)
            value = await compute(self.engine, build)
            self.computed += 1
            self._store(key, _Entry(marks=marks, made_at=time.monotonic(), value=value))
            return value

    async def _refresh(self, key: Hashable, build: Callable[[Session], Any], marks: dict[str, str]) -> None:
        try:
            await self._build(key, build, marks)
        except Exception:
            # The page keeps showing the previous value; the next request tries again.
            logger.exception("dashboard: refreshing view %r failed", key)
            return
        finally:
            self._refreshing.discard(key)
        if self.on_refreshed is not None:
            self.on_refreshed(key)

    def forget(self, name: str) -> None:
        """Drop the cached views named ``name`` (any parameters): the next request builds them afresh, so a page
        reloaded after its own form was posted shows the change (a stale copy would wait for the live stream)."""
        for key in [k for k in self._entries if isinstance(k, tuple) and k and k[0] == name]:
            del self._entries[key]

    def _store(self, key: Hashable, entry: _Entry) -> None:
        if len(self._entries) >= self.max_views and key not in self._entries:
            oldest = min(self._entries, key=lambda k: self._entries[k].made_at)
            del self._entries[oldest]
            self._locks.pop(oldest, None)
        self._entries[key] = entry
