"""The HTML pages, rendered on the server with Jinja2 (autoescaped: captured text always shows as text).

``PAGES`` is the table of pages: the navigation, the HTML routes, their ``/api`` twins (``dashboard.api``), the
live-update topics (``dashboard.live.TOPICS``) and which topic a cached view refreshes are all built from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from dashboard import charts, views
from dashboard.feedback import PAGE_HEADERS, csrf_token, post_feedback
from dashboard.loaders import (
    load_delegations,
    load_overview,
    load_patterns,
    load_providers,
    load_routing,
    load_session,
    load_sessions,
    load_solve_run,
    load_solve_runs,
    load_team,
    note_team,
)
from dashboard.page_table import Page, nav_links
from server import __version__
from server.analytics.health import HealthBucket
from server.redact import redact_text

__all__ = ["PAGES", "nav", "routes", "templates"]


def _shown(value: Any) -> Any:
    # Ingest and the delegate engine redact before storing; this second pass keeps a secret that slipped
    # through (an error message echoing a key, a row written by an older version) off the page.
    # Markup (macro output, tojson) stays Markup: redaction only removes text or inserts "[REDACTED:kind]",
    # which holds no markup, so already-escaped output stays escaped.
    if isinstance(value, Markup):
        return Markup(redact_text(str(value)))
    return redact_text(value) if isinstance(value, str) else value


templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_shown,
    )
)


def _who(request: Request) -> str:
    # What the header's all / me switch shows as chosen; an invalid value already failed the loader with a 400.
    return "me" if request.query_params.get("who") == "me" else "all"


def with_query(path: str, request: Request, **changed: str) -> str:
    """``path`` with ``request``'s query string, ``changed`` set (an empty value drops that parameter)."""
    params = {**request.query_params, **changed}
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{path}?{query}" if query else path


def nav(request: Request) -> list[tuple[str, str]]:
    """The navigation for ``request``: its app's listed pages (the template's links keep the all / me switch)."""
    return nav_links(request.app.state.pages, request)


def render(
    request: Request,
    template: str,
    *,
    title: str,
    active: str,
    topics: str,
    view: BaseModel,
    chart_specs: dict[str, charts.ChartSpec] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A page: ``view`` is what it shows; ``topics`` are the live-update topics that refresh it."""
    who = _who(request)
    context: dict[str, Any] = {
        "title": title,
        "nav": nav(request),
        "active": active,
        "who": who,
        "who_links": {w: with_query(request.url.path, request, who="" if w == "all" else w) for w in ("all", "me")},
        "topics": topics,
        "view": view,
        "charts": chart_specs or {},
        # Static URLs carry the version, so a browser never runs an older script against a newer page.
        "version": __version__,
        **(extra or {}),
    }
    return templates.TemplateResponse(
        request, template, context, headers={"cache-control": "no-store", **(headers or {})}
    )


def overview_charts(view: views.OverviewView) -> dict[str, charts.ChartSpec]:
    spend = charts.bar(
        [w.label for w in view.spend],
        {
            "Claude Code sessions": [w.session_cost_usd for w in view.spend],
            "Delegations": [w.delegation_cost_usd for w in view.spend],
        },
        "usd",
        stacked=True,
    )
    tools = charts.bar(
        [t.tool_name for t in view.top_tools],
        {"ok": [t.calls - t.errors - t.pending for t in view.top_tools], "error": [t.errors for t in view.top_tools]},
        "count",
        stacked=True,
        horizontal=True,
    )
    return {"spend-chart": spend, "tools-chart": tools, "calls-chart": calls_chart(view.provider_timeline)}


def calls_chart(timeline: list[HealthBucket]) -> charts.ChartSpec:
    """Delegation calls per day, stacked by provider."""
    days = sorted({b.start for b in timeline})
    series: dict[str, list[float | None]] = {}
    for provider in sorted({b.provider for b in timeline}):
        calls = {b.start: b.calls for b in timeline if b.provider == provider}
        series[provider] = [calls.get(day, 0) for day in days]
    return charts.bar([d.strftime("%m-%d") for d in days], series, "count", stacked=True)


def delegations_charts(view: views.DelegationsView) -> dict[str, charts.ChartSpec]:
    routes_chart = charts.bar(
        [f"{r.provider}:{r.model} · {r.task_type}" for r in view.stats.by_route],
        {"ok": [r.ok for r in view.stats.by_route], "failed": [r.calls - r.ok for r in view.stats.by_route]},
        "count",
        stacked=True,
        horizontal=True,
    )
    return {"routes-chart": routes_chart}


def health_chart(view: views.ProvidersView) -> charts.ChartSpec:
    """Failed calls per time bucket, one line per provider."""
    starts = sorted({b.start for b in view.health.timeline})
    fmt = "%m-%d %H:%M" if view.health.bucket_s < 86_400 else "%m-%d"
    series: dict[str, list[float | None]] = {}
    for provider in sorted({b.provider for b in view.health.timeline}):
        failures = {b.start: b.failures for b in view.health.timeline if b.provider == provider}
        series[provider] = [failures.get(start, 0) for start in starts]
    labels = [s.strftime(fmt) for s in starts]
    # A line through one or two points says little: bars until there is a trend to draw.
    return charts.line(labels, series, "count") if len(starts) > 2 else charts.bar(labels, series, "count")


def learning_chart(view: views.RoutingView) -> charts.ChartSpec:
    """Per task type: first attempts that failed, as they were and as the written order would have had them."""
    types = view.learning.task_types
    return charts.bar(
        [t.task_type for t in types],
        {
            "failed first attempts (learned)": [t.failed_first for t in types],
            "estimated in the written order": [t.written_failed_first for t in types],
        },
        "count",
    )


def success_chart(view: views.RoutingView) -> charts.ChartSpec:
    """Success rate of each (task type, model) the learner knows."""
    pairs = [(t.task_type, m) for t in view.learning.task_types for m in t.models]
    return charts.bar(
        [f"{m.model} · {task_type}" for task_type, m in pairs],
        {"success rate": [m.success_rate for _task_type, m in pairs]},
        "percent",
        horizontal=True,
    )


def _multi_user(request: Request) -> bool:
    return bool(getattr(request.app.state, "multi_user", False))


# What each page's data comes from, as store marks (dashboard.live.store_marks).
_SESSION_MARKS = ("session", "session_started", "raw_event", "prompt", "tool_call", "subagent_run", "model_usage")

PAGES: tuple[Page[Any], ...] = (
    Page(
        path="/",
        api="/overview",
        name="overview",
        title="Overview",
        loader=load_overview,
        template="overview.html",
        topic="overview",
        marks=(*_SESSION_MARKS, "delegation", "consensus_run", "provider_event"),
        nav=0,
        charts=overview_charts,
        after_load=note_team,
    ),
    Page(
        path="/sessions",
        name="sessions",
        title="Sessions",
        loader=load_sessions,
        template="sessions.html",
        topic="sessions",
        marks=(*_SESSION_MARKS, "delegation"),
        nav=1,
        after_load=note_team,
    ),
    Page(
        path="/sessions/{session_id}",
        name="session",
        title=lambda view: f"Session {view.session.session_id[:8]}",
        loader=load_session,
        template="session.html",
        topic="sessions",
        marks=(*_SESSION_MARKS, "delegation"),
        section="/sessions",
    ),
    Page(
        path="/delegations",
        name="delegations",
        title="Delegations",
        loader=load_delegations,
        template="delegations.html",
        topic="delegations",
        marks=("delegation", "consensus_run"),
        nav=2,
        charts=delegations_charts,
    ),
    Page(
        path="/providers",
        name="providers",
        title="Providers",
        loader=load_providers,
        template="providers.html",
        topic="providers",
        marks=("delegation", "provider_event"),
        nav=3,
        charts=lambda view: {"health-chart": health_chart(view)},
    ),
    Page(
        path="/patterns",
        name="patterns",
        title="Patterns",
        loader=load_patterns,
        template="patterns.html",
        topic="patterns",
        marks=("raw_event", "tool_call", "delegation"),
        nav=4,
    ),
    Page(
        path="/routing",
        name="routing",
        title="Routing",
        loader=load_routing,
        template="routing.html",
        topic="routing",
        marks=("delegation", "feedback"),
        nav=5,
        charts=lambda view: {"learning-chart": learning_chart(view), "success-chart": success_chart(view)},
        extra=lambda request: {"csrf": csrf_token(request.app.state.csrf_secret)},
        headers=PAGE_HEADERS,
    ),
    Page(
        path="/solve",
        name="solve",
        title="Solve",
        loader=load_solve_runs,
        template="solve.html",
        topic="solve",
        marks=("solve_run",),
        nav=6,
    ),
    Page(
        path="/solve/{run_id}",
        name="solve_run",
        title=lambda view: f"Solve run {view.run.id[:8]}",
        loader=load_solve_run,
        template="solve_run.html",
        topic="solve",
        marks=("solve_run",),
        section="/solve",
    ),
    Page(
        path="/team",
        name="team",
        title="Team",
        loader=load_team,
        template="team.html",
        topic="team",
        marks=("session", "session_started", "delegation"),
        nav=7,
        listed_if=_multi_user,
    ),
)


def endpoint(page: Page[Any]) -> Any:
    """The HTML route's handler for ``page``."""

    async def show(request: Request) -> Response:
        view = await page.loader(request)
        if page.after_load is not None:
            await page.after_load(request)
        return render(
            request,
            page.template,
            title=page.title_of(view),
            active=page.active,
            topics=page.topic,
            view=view,
            chart_specs=page.charts(view) if page.charts else None,
            extra=page.extra(request) if page.extra else None,
            headers=dict(page.headers),
        )

    show.__name__ = f"{page.name}_page"
    return show


def routes(pages: Sequence[Page[Any]] = PAGES) -> list[BaseRoute]:
    """One HTML route per page, and the form posts some pages make."""
    return [
        *(Route(page.path, endpoint(page), name=page.name) for page in pages),
        Route("/routing/feedback", post_feedback, methods=["POST"], name="routing_feedback"),
    ]
