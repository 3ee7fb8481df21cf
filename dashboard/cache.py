"""A view cache keyed on the store's high-water marks: a page is computed once per change of the store.

Every open tab refreshes when the store changes; without this, N tabs would run the same analytics N times.
A view is reused while the marks (see :func:`dashboard.live.store_marks`) stay the same and for at most
``max_age_s`` (windows such as "last 7 days" move with the clock). Concurrent requests for the same view
wait for one computation instead of starting their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import anyio
import anyio.to_thread
from sqlalchemy import Engine
from sqlmodel import Session

from dashboard.live import store_marks
from dashboard.views import compute

__all__ = ["ViewCache"]

T = TypeVar("T")


@dataclass
class _Entry:
    marks: dict[str, str]
    made_at: float
    value: Any


class ViewCache:
    """The latest value of each view (by name and parameters), valid while the store has not changed."""

    def __init__(self, engine: Engine, *, max_age_s: float = 30.0, max_views: int = 256) -> None:
        self.engine = engine
        self.max_age_s = max_age_s
        self.max_views = max_views
        self.computed = 0
        self._entries: dict[Hashable, _Entry] = {}
        self._locks: dict[Hashable, anyio.Lock] = {}

    def _fresh(self, key: Hashable, marks: dict[str, str]) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.marks != marks or time.monotonic() - entry.made_at >= self.max_age_s:
            return None
        return entry

    async def get(self, key: Hashable, build: Callable[[Session], T]) -> T:
        """The view named ``key``: cached if the store is unchanged, else ``build`` run once in a thread."""
        marks = await anyio.to_thread.run_sync(store_marks, self.engine)
        entry = self._fresh(key, marks)
        if entry is not None:
            return cast(T, entry.value)
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            entry = self._fresh(key, marks)
            if entry is not None:
                return cast(T, entry.value)
            value = await compute(self.engine, build)
            self.computed += 1
            if len(self._entries) >= self.max_views and key not in self._entries:
                oldest = min(self._entries, key=lambda k: self._entries[k].made_at)
                del self._entries[oldest]
                self._locks.pop(oldest, None)
            self._entries[key] = _Entry(marks=marks, made_at=time.monotonic(), value=value)
            return value
