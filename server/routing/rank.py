"""Turn a request into an ordered list of models to try, and say why each other model was left out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from server.config import RoutingConfig
from server.providers.registry import ModelInfo, Registry, split_model_id
from server.routing.breaker import Breakers, BreakerState
from server.routing.defaults import DEFAULT_MATRIX

__all__ = ["EVERY_MODEL", "LatencyStats", "Plan", "Skip", "candidate_ids", "plan_route"]

EVERY_MODEL = "every configured model"


@dataclass(frozen=True)
class Skip:
    """A model left out of the plan, and why."""

    model: str
    reason: str


@dataclass
class Plan:
    """The routing decision: candidates in the order they will be tried, and what was skipped."""

    task_type: str
    candidates: list[ModelInfo] = field(default_factory=list[ModelInfo])
    skipped: list[Skip] = field(default_factory=list[Skip])


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


def candidate_ids(registry: Registry, routing: RoutingConfig, task_type: str) -> tuple[list[str], str]:
    """The ranked list for ``task_type`` before filtering, and where it came from."""
    if routing.task_types.get(task_type):
        return list(routing.task_types[task_type]), f"config [routing.task_types] {task_type}"
    configured = {m.provider: [] for m in registry.models()}
    for info in registry.models():
        configured[info.provider].append(info.id)
    preferred = [mid for provider in DEFAULT_MATRIX.get(task_type, []) for mid in configured.get(provider, [])]
    if preferred:
        return preferred, f"built-in defaults for {task_type}"
    if routing.default:
        return list(routing.default), "config [routing] default"
    return [m.id for m in registry.models()], EVERY_MODEL


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
    """Order the candidates: explicit model first, then the task type's list ranked by fit, health, price, latency.

    A model is skipped when its provider is not configured, its breaker is open, or its context window is
    smaller than ``needed_tokens``. Fit (the position in the list) dominates; health, then price, then recent
    latency only reorder models that are equally fit (the same list position, e.g. expanded from one provider).
    """
    plan = Plan(task_type=task_type)
    ids, source = candidate_ids(registry, routing, task_type)
    if explicit_model:
        ids = [explicit_model, *[i for i in ids if i != explicit_model]]
    ranked: list[tuple[tuple[float, ...], ModelInfo]] = []
    seen: set[str] = set()
    for fit, model_id in enumerate(ids):
        if model_id in seen:
            continue
        seen.add(model_id)
        info, reason = _admit(registry, model_id, needed_tokens, breakers)
        if info is None:
            plan.skipped.append(Skip(model_id, reason))
            continue
        fit_rank = _fit_rank(ids, model_id, fit, explicit_model=explicit_model, source=source)
        unhealthy = 1.0 if breakers[info.provider].consecutive_failures else 0.0
        price = estimate_cost(info)
        key = (float(fit_rank), unhealthy, price if price is not None else float("inf"), latency.get(info.id) or 0.0)
        ranked.append((key, info))
    ranked.sort(key=lambda pair: pair[0])
    plan.candidates = [info for _key, info in ranked]
    return plan


def _fit_rank(ids: list[str], model_id: str, position: int, *, explicit_model: str | None, source: str) -> int:
    if model_id == explicit_model:
        return -1
    # Config order says nothing about fit when the list is just every configured model.
    return 0 if source == EVERY_MODEL else _fit_group(ids, model_id, position)


def _fit_group(ids: list[str], model_id: str, position: int) -> int:
    """Models of the same provider listed back to back share a fit rank (the position of the first of them)."""
    provider = model_id.partition(":")[0]
    while position > 0 and ids[position - 1].partition(":")[0] == provider:
        position -= 1
    return position


def _admit(registry: Registry, model_id: str, needed_tokens: int, breakers: Breakers) -> tuple[ModelInfo | None, str]:
    try:
        provider, _model = split_model_id(model_id)
    except ValueError as exc:
        return None, str(exc)
    info = registry.model(model_id)
    if info is None:
        return None, f"provider {provider!r} is not configured (add [providers.{provider}] to the config)"
    breaker = breakers[provider]
    if breaker.state is BreakerState.OPEN and breaker.cooldown_remaining_s() > 0:
        return None, f"circuit open for {provider!r}: retried in {breaker.cooldown_remaining_s():.0f} s"
    if info.context_window is not None and needed_tokens > info.context_window:
        return None, f"context window {info.context_window} tokens < about {needed_tokens} needed"
    return info, ""
