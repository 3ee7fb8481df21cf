"""Routing: classify a task, rank the models for it, circuit breakers per provider, budget caps."""

from server.classify import TASK_TYPES, classify
from server.routing.breaker import Breaker, Breakers, BreakerState
from server.routing.rank import LatencyStats, Plan, Skip, plan_route

__all__ = [
    "TASK_TYPES",
    "Breaker",
    "BreakerState",
    "Breakers",
    "LatencyStats",
    "Plan",
    "Skip",
    "classify",
    "plan_route",
]
