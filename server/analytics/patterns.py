"""Patterns: what succeeds and fails by task type and model, slow or failing tools, and recommendations."""

from __future__ import annotations

from pydantic import BaseModel, Field

from server.analytics.delegations import DelegationStat, DelegationStats
from server.analytics.tools import ToolStats

__all__ = ["Patterns", "Recommendation", "RoutePattern", "ToolPattern", "find_patterns"]

MIN_CALLS = 20
GOOD_SUCCESS = 0.90
POOR_SUCCESS = 0.80
CHEAPER_BY = 1.5
TOOL_FAILURE = 0.20
TOOL_MIN_CALLS = 10
SLOW_TOOL_MS = 30_000.0


class RoutePattern(BaseModel):
    """How one model did on one task type."""

    task_type: str
    route: str = Field(description="provider:model")
    calls: int
    success_rate: float | None
    cost_per_success_usd: float | None = Field(description="Cost of all attempts / successes; None if unpriced.")
    p50_ms: float | None
    first_choice: bool = Field(description="The model most often tried first for this task type.")


class ToolPattern(BaseModel):
    """A tool that fails often or runs slowly."""

    tool_name: str
    calls: int
    failure_rate: float | None
    p95_ms: float | None
    reason: str


class Recommendation(BaseModel):
    """A concrete change, with the numbers behind it."""

    kind: str = Field(description="route, demote or tool.")
    text: str
    numbers: dict[str, float | int | str]


class Patterns(BaseModel):
    """Success and failure patterns in the window, and what to change."""

    min_calls: int
    routes: list[RoutePattern]
    tools: list[ToolPattern]
    recommendations: list[Recommendation]


def _pattern(stat: DelegationStat, first: bool) -> RoutePattern:
    per_success = None
    if stat.cost_usd is not None and stat.unpriced_calls == 0 and stat.ok:
        per_success = stat.cost_usd / stat.ok
    return RoutePattern(
        task_type=stat.task_type,
        route=stat.route,
        calls=stat.calls,
        success_rate=stat.success_rate,
        cost_per_success_usd=per_success,
        p50_ms=stat.p50_ms,
        first_choice=first,
    )


def _first_choices(stats: DelegationStats) -> dict[str, str]:
    # The route with the most non-fallback attempts per task type stands for the current routing.
    best: dict[str, tuple[int, str]] = {}
    for s in stats.by_route:
        firsts = s.calls - s.fallbacks
        if firsts > best.get(s.task_type, (0, ""))[0]:
            best[s.task_type] = (firsts, s.route)
    return {task: route for task, (_, route) in best.items()}


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.0%}"


def _route_advice(task: str, current: RoutePattern, others: list[RoutePattern]) -> Recommendation | None:
    good = [
        o
        for o in others
        if o.calls >= MIN_CALLS
        and (o.success_rate or 0) >= max(GOOD_SUCCESS, (current.success_rate or 0) - 0.02)
        and o.cost_per_success_usd is not None
    ]
    cheaper = [
        o
        for o in good
        if current.cost_per_success_usd is not None
        and (o.cost_per_success_usd or 0) * CHEAPER_BY <= current.cost_per_success_usd
    ]
    if cheaper:
        pick = min(cheaper, key=lambda o: o.cost_per_success_usd or 0)
        factor = (current.cost_per_success_usd or 0) / max(pick.cost_per_success_usd or 0, 1e-12)
        text = (
            f"route {task} to {pick.route}: {_pct(pick.success_rate)} success over {pick.calls} calls, "
            f"{factor:.1f}x cheaper per success than the current first choice {current.route} "
            f"({_pct(current.success_rate)} over {current.calls})"
        )
    elif (current.success_rate or 0) < POOR_SUCCESS and current.calls >= MIN_CALLS and good:
        pick = max(good, key=lambda o: (o.success_rate or 0, -(o.cost_per_success_usd or 0)))
        factor = None
        text = (
            f"route {task} to {pick.route}: {_pct(pick.success_rate)} success over {pick.calls} calls, against "
            f"{_pct(current.success_rate)} over {current.calls} for the current first choice {current.route}"
        )
    else:
        return None
    numbers: dict[str, float | int | str] = {
        "task_type": task,
        "route": pick.route,
        "calls": pick.calls,
        "success_rate": pick.success_rate or 0.0,
        "current_route": current.route,
        "current_success_rate": current.success_rate or 0.0,
    }
    if factor is not None:
        numbers["cheaper_by"] = round(factor, 2)
    return Recommendation(kind="route", text=text, numbers=numbers)


def _demote(route: RoutePattern) -> Recommendation:
    return Recommendation(
        kind="demote",
        text=f"{route.route} fails on {route.task_type}: {_pct(route.success_rate)} success over {route.calls} calls",
        numbers={
            "task_type": route.task_type,
            "route": route.route,
            "calls": route.calls,
            "success_rate": route.success_rate or 0.0,
        },
    )


def _tool_patterns(tools: ToolStats) -> list[ToolPattern]:
    found: list[ToolPattern] = []
    for t in tools.tools:
        reasons: list[str] = []
        if t.calls >= TOOL_MIN_CALLS and (t.failure_rate or 0) >= TOOL_FAILURE:
            reasons.append(f"fails {_pct(t.failure_rate)} of {t.calls} calls")
        if t.calls >= TOOL_MIN_CALLS and (t.p95_ms or 0) >= SLOW_TOOL_MS:
            reasons.append(f"p95 {(t.p95_ms or 0) / 1000:.0f} s")
        if reasons:
            found.append(
                ToolPattern(
                    tool_name=t.tool_name,
                    calls=t.calls,
                    failure_rate=t.failure_rate,
                    p95_ms=t.p95_ms,
                    reason="; ".join(reasons),
                )
            )
    return found


def find_patterns(delegations: DelegationStats, tools: ToolStats) -> Patterns:
    """Patterns and recommendations from the window's delegation and tool statistics (no extra queries).

    A recommendation needs at least ``MIN_CALLS`` calls behind it; each one carries its numbers.
    """
    firsts = _first_choices(delegations)
    routes = [_pattern(s, firsts.get(s.task_type) == s.route) for s in delegations.by_route]
    recommendations: list[Recommendation] = []
    for task, current_route in sorted(firsts.items()):
        mine = [r for r in routes if r.task_type == task]
        current = next(r for r in mine if r.route == current_route)
        advice = _route_advice(task, current, [r for r in mine if r.route != current_route])
        if advice is not None:
            recommendations.append(advice)
    for route in routes:
        if route.calls >= MIN_CALLS and (route.success_rate or 0) < POOR_SUCCESS:
            recommendations.append(_demote(route))
    tool_patterns = _tool_patterns(tools)
    for t in tool_patterns:
        recommendations.append(
            Recommendation(
                kind="tool",
                text=f"{t.tool_name}: {t.reason}",
                numbers={
                    "tool": t.tool_name,
                    "calls": t.calls,
                    "failure_rate": t.failure_rate or 0.0,
                    "p95_ms": t.p95_ms or 0.0,
                },
            )
        )
    routes.sort(key=lambda r: (r.task_type, -(r.success_rate or 0), r.route))
    return Patterns(min_calls=MIN_CALLS, routes=routes, tools=tool_patterns, recommendations=recommendations)
