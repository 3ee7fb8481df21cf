"""The HTML pages, rendered on the server with Jinja2 (autoescaped: captured text always shows as text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
from server import __version__
from server.analytics.health import HealthBucket
from server.redact import redact_text

__all__ = ["routes", "templates"]

NAV = (
    ("/", "Overview"),
    ("/sessions", "Sessions"),
    ("/delegations", "Delegations"),
    ("/providers", "Providers"),
    ("/patterns", "Patterns"),
    ("/routing", "Routing"),
    ("/solve", "Solve"),
)


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
    context: dict[str, Any] = {
        "title": title,
        "nav": (*NAV, ("/team", "Team")) if getattr(request.app.state, "multi_user", False) else NAV,
        "active": active,
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


async def overview_page(request: Request) -> Response:
    view = await load_overview(request)
    await note_team(request)
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
    return render(
        request,
        "overview.html",
        title="Overview",
        active="/",
        topics="overview",
        view=view,
        chart_specs={"spend-chart": spend, "tools-chart": tools, "calls-chart": calls_chart(view.provider_timeline)},
    )


def calls_chart(timeline: list[HealthBucket]) -> charts.ChartSpec:
    """Delegation calls per day, stacked by provider."""
    days = sorted({b.start for b in timeline})
    series: dict[str, list[float | None]] = {}
    for provider in sorted({b.provider for b in timeline}):
        calls = {b.start: b.calls for b in timeline if b.provider == provider}
        series[provider] = [calls.get(day, 0) for day in days]
    return charts.bar([d.strftime("%m-%d") for d in days], series, "count", stacked=True)


async def sessions_page(request: Request) -> Response:
    view = await load_sessions(request)
    await note_team(request)
    return render(request, "sessions.html", title="Sessions", active="/sessions", topics="sessions", view=view)


async def session_page(request: Request) -> Response:
    view = await load_session(request)
    title = f"Session {view.session.session_id[:8]}"
    return render(request, "session.html", title=title, active="/sessions", topics="sessions", view=view)


async def delegations_page(request: Request) -> Response:
    view = await load_delegations(request)
    routes_chart = charts.bar(
        [f"{r.provider}:{r.model} · {r.task_type}" for r in view.stats.by_route],
        {"ok": [r.ok for r in view.stats.by_route], "failed": [r.calls - r.ok for r in view.stats.by_route]},
        "count",
        stacked=True,
        horizontal=True,
    )
    return render(
        request,
        "delegations.html",
        title="Delegations",
        active="/delegations",
        topics="delegations",
        view=view,
        chart_specs={"routes-chart": routes_chart},
    )


async def providers_page(request: Request) -> Response:
    view = await load_providers(request)
    return render(
        request,
        "providers.html",
        title="Providers",
        active="/providers",
        topics="providers",
        view=view,
        chart_specs={"health-chart": health_chart(view)},
    )


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


async def patterns_page(request: Request) -> Response:
    view = await load_patterns(request)
    return render(request, "patterns.html", title="Patterns", active="/patterns", topics="patterns", view=view)


async def routing_page(request: Request) -> Response:
    view = await load_routing(request)
    return render(
        request,
        "routing.html",
        title="Routing",
        active="/routing",
        topics="routing",
        view=view,
        chart_specs={"learning-chart": learning_chart(view), "success-chart": success_chart(view)},
        extra={"csrf": csrf_token(request.app.state.csrf_secret)},
        headers=PAGE_HEADERS,
    )


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


async def solve_runs_page(request: Request) -> Response:
    view = await load_solve_runs(request)
    return render(request, "solve.html", title="Solve", active="/solve", topics="solve", view=view)


async def solve_run_page(request: Request) -> Response:
    view = await load_solve_run(request)
    title = f"Solve run {view.run.id[:8]}"
    return render(request, "solve_run.html", title=title, active="/solve", topics="solve", view=view)


async def team_page(request: Request) -> Response:
    view = await load_team(request)
    return render(request, "team.html", title="Team", active="/team", topics="team", view=view)


def routes() -> list[BaseRoute]:
    return [
        Route("/team", team_page, name="team"),
        Route("/", overview_page, name="overview"),
        Route("/sessions", sessions_page, name="sessions"),
        Route("/sessions/{session_id}", session_page, name="session"),
        Route("/delegations", delegations_page, name="delegations"),
        Route("/providers", providers_page, name="providers"),
        Route("/patterns", patterns_page, name="patterns"),
        Route("/routing", routing_page, name="routing"),
        Route("/routing/feedback", post_feedback, methods=["POST"], name="routing_feedback"),
        Route("/solve", solve_runs_page, name="solve"),
        Route("/solve/{run_id}", solve_run_page, name="solve_run"),
    ]
