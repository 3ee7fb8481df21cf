"""Turning a request into its view: parse the query string, then get the view from the cache (or build it).

Pages and the JSON API share these, so ``/api/x`` is exactly what page ``/x`` shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import TypeVar

from pydantic import ValidationError
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request

from dashboard import views
from dashboard.cache import ViewCache
from server.config import ContextConfig, SwitchboardConfig

__all__ = [
    "load_delegations",
    "load_overview",
    "load_patterns",
    "load_providers",
    "load_routing",
    "load_session",
    "load_sessions",
    "load_solve_run",
    "load_solve_runs",
    "load_team",
    "note_team",
    "range_filter",
    "session_filters",
    "warm_up",
    "who_filter",
]

T = TypeVar("T")

logger = logging.getLogger(__name__)


async def _view(request: Request, key: Hashable, build: Callable[[Session], T]) -> T:
    cache: ViewCache = request.app.state.views
    return await cache.get(key, build)


def _invalid(what: str, exc: ValidationError) -> HTTPException:
    # Each error names its field: "days: Input should be less than or equal to 36500".
    reasons = ("{}: {}".format(".".join(str(part) for part in e["loc"]) or what, e["msg"]) for e in exc.errors())
    return HTTPException(400, f"invalid {what}: " + "; ".join(reasons))


def session_filters(request: Request) -> views.SessionFilters:
    """The sessions page's filters from the query string (empty fields mean no filter)."""
    raw = {k: v for k, v in request.query_params.items() if v.strip() and k in views.SessionFilters.model_fields}
    try:
        return views.SessionFilters.model_validate(raw)
    except ValidationError as exc:
        raise _invalid("filter", exc) from exc


def range_filter(request: Request) -> views.RangeFilter:
    """The ``days`` of a page's query string (default 7)."""
    days = request.query_params.get("days", "").strip()
    try:
        return views.RangeFilter.model_validate({"days": days} if days else {})
    except ValidationError as exc:
        raise _invalid("days", exc) from exc


WHO = ("all", "me")
"""The all / me switch every listing page takes as ``?who=``: everyone's rows, or this machine's [team] user's."""


def who_filter(request: Request) -> str | None:
    """The user ``?who=me`` narrows a page to (this machine's [team] user), or None for ``all`` (the default)."""
    who = request.query_params.get("who", "").strip() or "all"
    if who not in WHO:
        raise HTTPException(400, "invalid who: should be 'all' or 'me'")
    if who == "all":
        return None
    from server.team import current_identity

    return current_identity().user


OVERVIEW_KEY = ("overview", None)
"""Everyone's overview, the one built at start-up."""


def build_overview(context: ContextConfig, user: str | None = None) -> Callable[[Session], views.OverviewView]:
    """The overview's builder, with the config's ``[context]`` threshold (``user``: only that person's)."""
    return lambda db: views.overview(db, context=context, user=user)


async def warm_up(cache: ViewCache, context: ContextConfig) -> None:
    """Build the overview once at start-up, so the first visitor does not wait for it."""
    try:
        await cache.get(OVERVIEW_KEY, build_overview(context))
    except Exception:
        logger.exception("dashboard: building the overview at start-up failed")


async def load_overview(request: Request) -> views.OverviewView:
    config: SwitchboardConfig = request.app.state.config
    user = who_filter(request)
    return await _view(request, ("overview", user), build_overview(config.context, user))


async def load_sessions(request: Request) -> views.SessionsView:
    filters = session_filters(request)
    return await _view(request, ("sessions", filters.model_dump_json()), lambda db: views.sessions_list(db, filters))


async def load_session(request: Request) -> views.SessionDetailView:
    """The session named in the path, or a 404."""
    session_id: str = request.path_params["session_id"]
    view = await _view(request, ("session", session_id), lambda db: views.session_view(db, session_id))
    if view is None:
        raise HTTPException(404, "no such session")
    return view


async def load_delegations(request: Request) -> views.DelegationsView:
    selected, user = range_filter(request), who_filter(request)
    key = ("delegations", selected.days, user)
    return await _view(request, key, lambda db: views.delegations_view(db, selected, user))


async def load_providers(request: Request) -> views.ProvidersView:
    selected, user = range_filter(request), who_filter(request)
    key = ("providers", selected.days, user)
    return await _view(request, key, lambda db: views.providers_view(db, selected, user))


async def load_patterns(request: Request) -> views.PatternsView:
    selected, user = range_filter(request), who_filter(request)
    key = ("patterns", selected.days, user)
    return await _view(request, key, lambda db: views.patterns_view(db, selected, user))


async def load_routing(request: Request) -> views.RoutingView:
    selected, user = range_filter(request), who_filter(request)
    config: SwitchboardConfig = request.app.state.config
    key = ("routing", selected.days, user)
    return await _view(request, key, lambda db: views.routing_view(db, selected, config, user))


async def load_solve_runs(request: Request) -> views.SolveRunsView:
    user = who_filter(request)
    return await _view(request, ("solve", user), lambda db: views.solve_runs_view(db, user))


async def load_solve_run(request: Request) -> views.SolveRunView:
    """The solve run named in the path, or a 404."""
    run_id: str = request.path_params["run_id"]
    view = await _view(request, ("solve_run", run_id), lambda db: views.solve_run_view(db, run_id))
    if view is None:
        raise HTTPException(404, "no such solve run")
    return view


async def load_team(request: Request) -> views.TeamView:
    selected, user = range_filter(request), who_filter(request)
    view = await _view(request, ("team", selected.days, user), lambda db: views.team_view(db, selected, user))
    request.app.state.multi_user = view.users > 1
    return view


async def note_team(request: Request) -> None:
    """Remember whether the store holds several people's sessions: the navigation then shows the Team page."""
    from server.analytics.team import count_users

    request.app.state.multi_user = await _view(request, ("team", "users"), count_users) > 1
