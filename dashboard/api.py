"""The JSON API under ``/api/``: each endpoint returns the same view its page renders, as JSON."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from dashboard.export import export_csv
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
)
from server.json_output import dumps
from server.redact import redact

__all__ = ["routes"]


def _json(view: BaseModel) -> Response:
    # Same second redaction pass as the pages (see dashboard.pages._shown), on every string of the view.
    body = dumps(redact(view.model_dump(mode="json")), separators=(",", ":"))
    return Response(body, media_type="application/json", headers={"cache-control": "no-store"})


async def overview(request: Request) -> Response:
    """``GET /api/overview``: spend, savings, top tools, provider health and recent sessions."""
    return _json(await load_overview(request))


async def sessions(request: Request) -> Response:
    """``GET /api/sessions?q=&project=&days=&page=``: one page of matching sessions, newest first."""
    return _json(await load_sessions(request))


async def session(request: Request) -> Response:
    """``GET /api/sessions/{session_id}``: the session, its timeline tree with costs, delegations with answers."""
    return _json(await load_session(request))


async def delegations(request: Request) -> Response:
    """``GET /api/delegations?days=``: delegations by route, consensus, savings, latest attempts and runs."""
    return _json(await load_delegations(request))


async def providers(request: Request) -> Response:
    """``GET /api/providers?days=``: provider health over time, latency per route, breaker events."""
    return _json(await load_providers(request))


async def patterns(request: Request) -> Response:
    """``GET /api/patterns?days=``: patterns by task type and model, slow tools, recommendations."""
    return _json(await load_patterns(request))


async def routing(request: Request) -> Response:
    """``GET /api/routing?days=``: learned routing per task type, overrides, the written order's estimate."""
    return _json(await load_routing(request))


async def solve_runs(request: Request) -> Response:
    """``GET /api/solve``: the newest solve runs."""
    return _json(await load_solve_runs(request))


async def solve_run(request: Request) -> Response:
    """``GET /api/solve/{run_id}``: one run, its tree's nodes placed for drawing, and a summary per model."""
    return _json(await load_solve_run(request))


async def team(request: Request) -> Response:
    """``GET /api/team?days=``: spend, sessions, delegations and models per person and per person and project."""
    return _json(await load_team(request))


def routes() -> list[BaseRoute]:
    return [
        Route("/team", team),
        Route("/overview", overview),
        Route("/sessions", sessions),
        Route("/sessions/{session_id}", session),
        Route("/delegations", delegations),
        Route("/providers", providers),
        Route("/patterns", patterns),
        Route("/routing", routing),
        Route("/solve", solve_runs),
        Route("/solve/{run_id}", solve_run),
        Route("/export/{table}.csv", export_csv),
    ]
