"""Turn a request into an ordered list of models to try, and say why each other model was left out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from server.config import RoutingConfig
from server.providers.registry import ModelInfo, Registry, split_model_id
from server.routing.breaker import Breakers, BreakerState
from server.routing.defaults import DEFAULT_MATRIX

__all__ = [
    "EVERY_MODEL",
    "LatencyStats",
    "Plan",
    "Route",
    "Skip",
    "candidate_ids",
    "plan_route",
    "route_for",
    "unlisted_model",
]

EVERY_MODEL = "every configured model"


@dataclass(frozen=True)
class Skip:
    """A model left out of the plan, and why."""

    model: str
    reason: str
    kind: str | None = None
    """The status a refusal is recorded under when the call goes unanswered (``circuit_open``, ``budget``,
    ``cost_cap``, ``deadline``: none is the model's failure, see ``server.outcomes``); None: not recorded
    (a provider not configured, a context window too small)."""


@dataclass
class Plan:
    """The routing decision: candidates in the order they will be tried, and what was skipped."""

    task_type: str
    candidates: list[ModelInfo] = field(default_factory=list[ModelInfo])
    skipped: list[Skip] = field(default_factory=list[Skip])
    source: str = ""
    """Where the list came from (a config list, the built-in defaults, every configured model)."""
    order: str = "written"
    """How it was ordered: ``written``, ``cost``, ``latency``, or ``fit`` (built-in defaults)."""


class LatencyStats:
    """Recent latency per model id, as an exponentially weighted moving average."""

    def __init__(self, weight: float = 0.3) -> None:
        self.weight = weight
        self._ms: dict[str, float] = {}

    def observe(self, model_id: str, latency_ms: float) -> None:
        previous = self._ms.get(model_id)
        self._ms[model_id] = latency_ms if previous is None else previous + self.weight * (latency_ms - previous)

    def get(self, model_id: str) -> float | None:
        return self._ms.get(model_id)


@dataclass(frozen=True)
class Route:
    """A task type's list before filtering: the ids, where they came from, and how they are ordered.

    ``order`` is ``written`` (tried as listed), ``cost`` or ``latency`` (the config asked for it), or ``fit``
    (the built-in defaults: list position, then health, price and recent latency).
    """

    ids: list[str]
    source: str
    order: str


def candidate_ids(registry: Registry, routing: RoutingConfig, task_type: str) -> tuple[list[str], str]:
    """The list for ``task_type`` before filtering, and where it came from."""
    route = route_for(registry, routing, task_type)
    return route.ids, route.source


def route_for(registry: Registry, routing: RoutingConfig, task_type: str) -> Route:
    """The config's list for ``task_type``, else its ``default``; the built-in matrix only when it gives neither.

    A config that routes anything owns the routing: a provider that happens to share a name with one in the
    matrix (``openai``) must not put the matrix ahead of the user's ``default``.
    """
    written = "written" if routing.order is None else routing.order
    listed = next((ids for name, ids in routing.task_types.items() if name == task_type), None)
    if listed:
        return Route(list(listed), f"config [routing.task_types] {task_type}", written)
    if routing.default:
        return Route(list(routing.default), "config [routing] default", written)
    every = [m.id for m in registry.models()]
    if routing.task_types:
        return Route(every, f"{EVERY_MODEL} (the config routes other task types, and has no default)", written)
    preferred = _matrix_order(registry, task_type)
    if preferred:
        return Route(preferred, f"built-in defaults for {task_type}", routing.order or "fit")
    return Route(every, EVERY_MODEL, routing.order or "fit")


def _matrix_order(registry: Registry, task_type: str) -> list[str]:
    """The built-in matrix's providers for ``task_type``, known by what they are (preset or kind, not section name),
    then every other configured model in config order as a fallback; empty when the matrix knows none of them."""
    by_identity: dict[str, list[str]] = {}
    for info in registry.models():
        by_identity.setdefault(registry.specs[info.provider].identity, []).append(info.id)
    preferred = [mid for identity in DEFAULT_MATRIX.get(task_type, []) for mid in by_identity.get(identity, [])]
    if not preferred:
        return []
    chosen = set(preferred)
    return preferred + [m.id for m in registry.models() if m.id not in chosen]


def plan_route(
    registry: Registry,
    routing: RoutingConfig,
    *,
    task_type: str,
    explicit_model: str | None,
    needed_tokens: int,
    breakers: Breakers,
    latency: LatencyStats,
    estimate_cost: Callable[[ModelInfo], float | None],
) -> Plan:
    """Order the candidates: the explicit model first, then the task type's list (see :func:`route_for`).

    A model is skipped when its provider is not configured, its breaker is open, or its context window is
    smaller than ``needed_tokens``; the plan says why. A list the config wrote is tried as written, unless
    ``[routing] order`` asks for ``cost`` or ``latency``. Only the built-in defaults are ranked by fit (the
    position in the list), then health, price and recent latency, among models equally fit (the same list
    position, e.g. expanded from one provider).
    """
    route = route_for(registry, routing, task_type)
    plan = Plan(task_type=task_type, source=route.source, order=route.order)
    ids = route.ids
    if explicit_model:
        ids = [explicit_model, *[i for i in ids if i != explicit_model]]
    ranked: list[tuple[tuple[float, ...], ModelInfo]] = []
    seen: set[str] = set()
    for position, model_id in enumerate(ids):
        if model_id in seen:
            continue
        seen.add(model_id)
        info, reason = _admit(registry, model_id, needed_tokens, breakers, asked=model_id == explicit_model)
        if info is None:
            plan.skipped.append(Skip(model_id, reason, _skip_kind(reason)))
            continue
        first = -1.0 if model_id == explicit_model else 0.0
        ranked.append(((first, *_sort_key(route, ids, position, info, breakers, latency, estimate_cost)), info))
    ranked.sort(key=lambda pair: pair[0])
    plan.candidates = [info for _key, info in ranked]
    return plan


def _sort_key(
    route: Route,
    ids: list[str],
    position: int,
    info: ModelInfo,
    breakers: Breakers,
    latency: LatencyStats,
    estimate_cost: Callable[[ModelInfo], float | None],
) -> tuple[float, ...]:
    if route.order == "written":
        return (float(position),)
    price = estimate_cost(info)
    dear = price if price is not None else float("inf")
    # Unknown latency sorts after known: a model never measured has not shown it is fast.
    slow = latency.get(info.id)
    slow_key = slow if slow is not None else float("inf")
    if route.order == "cost":
        return (dear, slow_key, float(position))
    if route.order == "latency":
        return (slow_key, dear, float(position))
    unhealthy = 1.0 if breakers[info.provider].consecutive_failures else 0.0
    # Config order says nothing about fit when the list is just every configured model.
    fit = 0 if route.source == EVERY_MODEL else _fit_group(ids, info.id, position)
    return (float(fit), unhealthy, dear, latency.get(info.id) or 0.0)


def _fit_group(ids: list[str], model_id: str, position: int) -> int:
    """Models of the same provider listed back to back share a fit rank (the position of the first of them)."""
    provider = model_id.partition(":")[0]
    while position > 0 and ids[position - 1].partition(":")[0] == provider:
        position -= 1
    return position


def _skip_kind(reason: str) -> str | None:
    """The recorded kind of a skip ``_admit`` decided: only the breaker's is recorded (the rest are the config's)."""
    return "circuit_open" if reason.startswith(_CIRCUIT_OPEN) else None


_CIRCUIT_OPEN = "circuit open for"


def _admit(
    registry: Registry, model_id: str, needed_tokens: int, breakers: Breakers, *, asked: bool = False
) -> tuple[ModelInfo | None, str]:
    """The model's info when it may be tried, else None and why."""
    try:
        provider, _model = split_model_id(model_id)
    except ValueError as exc:
        return None, str(exc)
    info = registry.model(model_id)
    if info is None:
        return None, f"provider {provider!r} is not configured (add [providers.{provider}] to the config)"
    problem = unlisted_model(registry, model_id)
    if problem is not None and not asked:  # a model asked for by name may be one the list leaves out
        return None, problem
    breaker = breakers[provider]
    if breaker.state is BreakerState.OPEN and breaker.cooldown_remaining_s() > 0:
        return None, f"{_CIRCUIT_OPEN} {provider!r}: retried in {breaker.cooldown_remaining_s():.0f} s"
    if info.context_window is not None and needed_tokens > info.context_window:
        return None, f"context window {info.context_window} tokens < about {needed_tokens} needed"
    return info, ""


def unlisted_model(registry: Registry, model_id: str) -> str | None:
    """Why a route entry is refused when its provider lists its models and this is not one of them (a typo such as
    ``acme:ok-aa``), else None. A provider with no ``models`` list takes any name."""
    provider, model = split_model_id(model_id)
    spec = registry.specs.get(provider)
    if spec is None or not spec.models or model in spec.models:
        return None
    return f"{model!r} is not in [providers.{provider}] models ({', '.join(spec.models)})"
