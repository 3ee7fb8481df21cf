"""What each page shows, assembled from :mod:`server.analytics` (the one definition of every number).

Each view function returns one pydantic model: the HTML page renders it and ``/api/...`` returns it as JSON,
so the API holds everything the page shows. Queries written here only *select rows* (the session search,
recent delegations, consensus runs and breaker events); every aggregate comes from analytics.
"""

from dashboard.views._run import compute
from dashboard.views.learning import AnswerRow, RoutingView, routing_view
from dashboard.views.overview import OverviewView, SpendWindow, overview
from dashboard.views.routing import (
    DelegationsView,
    PatternsView,
    ProvidersView,
    RangeFilter,
    delegations_view,
    patterns_view,
    providers_view,
)
from dashboard.views.sessions import SessionDetailView, SessionFilters, SessionsView, session_view, sessions_list
from dashboard.views.solve import SolveRunsView, SolveRunView, solve_run_view, solve_runs_view
from dashboard.views.team import TeamView, team_view

__all__ = [
    "AnswerRow",
    "DelegationsView",
    "OverviewView",
    "PatternsView",
    "ProvidersView",
    "RangeFilter",
    "RoutingView",
    "SessionDetailView",
    "SessionFilters",
    "SessionsView",
    "SolveRunView",
    "SolveRunsView",
    "SpendWindow",
    "TeamView",
    "compute",
    "delegations_view",
    "overview",
    "patterns_view",
    "providers_view",
    "routing_view",
    "session_view",
    "sessions_list",
    "solve_run_view",
    "solve_runs_view",
    "team_view",
]
