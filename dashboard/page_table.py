"""What a dashboard page is: one :class:`Page` entry from which its HTML route, its ``/api`` JSON twin, its place
in the navigation and its live-update topic are all built.

The table itself is ``dashboard.pages.PAGES``; a new page is one entry there, its loader in
``dashboard/loaders.py`` and its template.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from starlette.requests import Request

from dashboard.charts import ChartSpec

__all__ = ["Page", "nav_links", "topic_of", "topics_by_mark"]

V = TypeVar("V", bound=BaseModel)


@dataclass(frozen=True)
class Page(Generic[V]):
    """One dashboard page.

    Attributes:
        path: The HTML route, e.g. ``/sessions`` or ``/sessions/{session_id}``.
        name: The route's name, and the first element of the keys its loader caches views under (so a rebuilt
            view announces this page's ``topic``).
        title: The page's title, or a function of its view (e.g. ``Session 1a2b3c4d``).
        loader: Request to view (``dashboard.loaders``); the HTML page renders it and ``/api`` returns it as JSON.
        template: The Jinja2 template under ``dashboard/templates/``.
        topic: The live-update topic that refreshes it (pages showing the same data share one).
        marks: The store marks (``dashboard.live.store_marks``) whose moving means ``topic`` has new data.
        nav: Its position in the navigation; None: not listed (a detail page).
        section: The navigation entry shown as current (default: ``path``).
        api: Its ``/api`` twin's path (default: ``path``).
        listed_if: The navigation lists it only while this holds (the Team page: several people in the store).
        charts: The view's charts, by canvas id.
        extra: More template context (e.g. a CSRF token).
        headers: More response headers.
        after_load: Run after the loader on the HTML page (e.g. noting whether to list the Team page).
    """

    path: str
    name: str
    title: str | Callable[[V], str]
    loader: Callable[[Request], Awaitable[V]]
    template: str
    topic: str
    marks: tuple[str, ...] = ()
    nav: int | None = None
    section: str | None = None
    api: str | None = None
    listed_if: Callable[[Request], bool] | None = None
    charts: Callable[[V], dict[str, ChartSpec]] | None = None
    extra: Callable[[Request], dict[str, Any]] | None = None
    headers: Mapping[str, str] = field(default_factory=dict[str, str])
    after_load: Callable[[Request], Awaitable[None]] | None = None

    @property
    def api_path(self) -> str:
        return self.api or self.path

    @property
    def active(self) -> str:
        return self.section or self.path

    def title_of(self, view: V) -> str:
        return self.title if isinstance(self.title, str) else self.title(view)


def nav_links(pages: Iterable[Page[Any]], request: Request) -> list[tuple[str, str]]:
    """The navigation: ``(path, title)`` of each listed page, in ``nav`` order."""
    listed = [p for p in pages if p.nav is not None and (p.listed_if is None or p.listed_if(request))]
    return [(p.path, p.title if isinstance(p.title, str) else p.name) for p in sorted(listed, key=lambda p: p.nav or 0)]


def topics_by_mark(pages: Iterable[Page[Any]]) -> dict[str, tuple[str, ...]]:
    """Which page topics each store mark feeds (``dashboard.live.TOPICS``), topics sorted."""
    topics: dict[str, set[str]] = {}
    for page in pages:
        for mark in page.marks:
            topics.setdefault(mark, set()).add(page.topic)
    return {mark: tuple(sorted(names)) for mark, names in topics.items()}


def topic_of(pages: Iterable[Page[Any]], key: Hashable) -> str:
    """The live-update topic of a cached view's key: the topic of the page named by its first element."""
    name = str(key[0] if isinstance(key, tuple) and key else key)  # pyright: ignore[reportUnknownArgumentType]
    return next((p.topic for p in pages if p.name == name), name)
