"""The HTML pages, rendered on the server with Jinja2 (autoescaped: captured text always shows as text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from dashboard import charts, views

__all__ = ["routes", "templates"]

NAV = (
    ("/", "Overview"),
    ("/sessions", "Sessions"),
    ("/delegations", "Delegations"),
    ("/providers", "Providers"),
    ("/patterns", "Patterns"),
)

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
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
) -> Response:
    """A page: ``view`` is what it shows; ``topics`` are the live-update topics that refresh it."""
    context: dict[str, Any] = {
        "title": title,
        "nav": NAV,
        "active": active,
        "topics": topics,
        "view": view,
        "charts": chart_specs or {},
    }
    return templates.TemplateResponse(request, template, context, headers={"cache-control": "no-store"})


def session_filters(request: Request) -> views.SessionFilters:
    """The sessions page's filters from the query string (empty fields mean no filter)."""
    raw = {k: v for k, v in request.query_params.items() if v.strip() and k in views.SessionFilters.model_fields}
    try:
        return views.SessionFilters.model_validate(raw)
    except ValidationError as exc:
        raise HTTPException(400, "invalid filter: " + "; ".join(e["msg"] for e in exc.errors())) from exc


async def overview_page(request: Request) -> Response:
    view = await views.compute(request.app.state.engine, views.overview)
    spend = charts.bar(
        [w.label for w in view.spend], {"Claude Code sessions": [w.session_cost_usd for w in view.spend]}, "usd"
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
        chart_specs={"spend-chart": spend, "tools-chart": tools},
    )


async def sessions_page(request: Request) -> Response:
    filters = session_filters(request)
    view = await views.compute(request.app.state.engine, lambda db: views.sessions_list(db, filters))
    return render(request, "sessions.html", title="Sessions", active="/sessions", topics="sessions", view=view)


def routes() -> list[BaseRoute]:
    return [
        Route("/", overview_page, name="overview"),
        Route("/sessions", sessions_page, name="sessions"),
    ]
