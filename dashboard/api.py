"""The JSON API under ``/api/``: each endpoint returns the same view its page renders, as JSON."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from dashboard import views
from dashboard.pages import session_filters

__all__ = ["routes"]


def _json(view: BaseModel) -> Response:
    return Response(view.model_dump_json(), media_type="application/json", headers={"cache-control": "no-store"})


async def overview(request: Request) -> Response:
    """``GET /api/overview``: spend, savings, top tools, provider health and recent sessions."""
    return _json(await views.compute(request.app.state.engine, views.overview))


async def sessions(request: Request) -> Response:
    """``GET /api/sessions?q=&project=&days=&page=``: one page of matching sessions, newest first."""
    filters = session_filters(request)
    return _json(await views.compute(request.app.state.engine, lambda db: views.sessions_list(db, filters)))


def routes() -> list[BaseRoute]:
    return [
        Route("/overview", overview),
        Route("/sessions", sessions),
    ]
