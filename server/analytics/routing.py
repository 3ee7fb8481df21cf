"""What learned routing knows and did, per task type: the ``stats`` section ``routing`` and the Routing page.

Per model: the learner's all-time totals (``routing_stat``: what the next decision draws from). Per task type,
over the window: first attempts, how often learning put another model first than the written order
(``delegation.learned_over``), and an offline estimate of the written order over the same calls: each overridden
call is re-priced at the written-first model's mean cost and counted as failing at its failure rate.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from server.analytics.window import Window
from server.config import RoutingConfig, SwitchboardConfig
from server.providers.registry import Registry
from server.routing.learn import Evidence, Learner
from server.routing.rank import route_for
from server.store.models import Delegation, RoutingStat

__all__ = ["ModelLearning", "RoutingLearning", "TaskTypeLearning", "routing_learning", "written_order"]


class ModelLearning(BaseModel):
    model: str
    calls: int
    success_rate: float | None
    quality: float | None = Field(description="0 to 1 from feedback and consensus; None without signals.")
    quality_signals: int
    latency_ms: float | None = Field(description="Mean over successful calls.")
    cost_usd: float | None = Field(description="Mean over priced answers; None when none was priced.")
    priced_answers: int


class TaskTypeLearning(BaseModel):
    task_type: str
    written_order: list[str] = Field(description="The config's list for the task type, as delegate routes it.")
    learned_order: list[str] = Field(description="The written order ranked at the posterior means (no draw).")
    models: list[ModelLearning] = Field(description="The written order's models, in that order.")
    other_models: list[ModelLearning] = Field(
        default_factory=list[ModelLearning],
        description="Models with evidence for the task type that the config does not route it to (asked for by "
        "name, or solve's candidates): delegate never picks them unasked.",
    )
    first_attempts: int = Field(description="Delegate calls in the window.")
    overrides: int = Field(description="Calls where learning put another model first than the written order.")
    cost_usd: float = Field(description="At least this: what the window's calls cost, priced attempts only.")
    unpriced_calls: int = Field(description="Calls with an attempt of unknown cost (not in cost_usd).")
    failed_first: int = Field(description="Calls whose first attempt failed.")
    written_cost_usd: float = Field(description="Estimate, at least: the same calls in the written order.")
    written_failed_first: float = Field(description="Estimate: first attempts failing in the written order.")
    written_unpriced_calls: int = Field(description="Calls the estimate could not price.")


class RoutingLearning(BaseModel):
    enabled: bool
    task_types: list[TaskTypeLearning]


def written_order(config: SwitchboardConfig, task_type: str) -> list[str]:
    """The config's list for ``task_type`` as delegate reads it (:func:`server.routing.rank.route_for`), before
    learning: its own list, ``[routing] default``, or the built-in matrix over the configured providers."""
    ids = route_for(Registry(config, environ={}), config.routing, task_type).ids
    return list(dict.fromkeys(ids))


def _model(model: str, e: Evidence) -> ModelLearning:
    return ModelLearning(
        model=model,
        calls=e.calls,
        success_rate=e.success_rate,
        quality=e.quality,
        quality_signals=e.quality_n,
        latency_ms=e.latency_ms,
        cost_usd=e.cost_usd,
        priced_answers=e.cost_n,
    )


def _window_calls(db: Session, window: Window, task_type: str) -> dict[str, list[Delegation]]:
    """The window's delegate attempts of ``task_type``, by request."""
    statement = select(Delegation).where(col(Delegation.task_type) == task_type, col(Delegation.role).is_(None))
    rows = db.exec(window.apply(statement, Delegation.created_at, Delegation.session_id)).all()
    calls: dict[str, list[Delegation]] = {}
    for row in rows:
        calls.setdefault(row.request_id, []).append(row)
    return calls


def _task_type(
    db: Session,
    window: Window,
    task_type: str,
    totals: dict[str, Evidence],
    learner: Learner,
    config: SwitchboardConfig,
) -> TaskTypeLearning:
    written = written_order(config, task_type)
    calls = _window_calls(db, window, task_type)
    cost = estimate = failed_estimate = 0.0
    failed = overrides = unpriced = unpriced_estimates = 0
    for attempts in calls.values():
        attempts.sort(key=lambda row: row.attempt)
        first = attempts[0]
        own = sum(row.cost_usd or 0.0 for row in attempts)
        unknown = any(row.cost_usd is None for row in attempts)
        cost, unpriced = cost + own, unpriced + unknown
        failed += first.status != "ok"
        if first.learned_over is None:
            failed_estimate += first.status != "ok"
            estimate, unpriced_estimates = estimate + own, unpriced_estimates + unknown
            continue
        overrides += 1
        other = totals.get(first.learned_over, Evidence())
        failed_estimate += 1 - (other.success_rate if other.success_rate is not None else 0.5)
        if other.cost_usd is None:
            unpriced_estimates += 1
        else:
            estimate += other.cost_usd
    return TaskTypeLearning(
        task_type=task_type,
        written_order=written,
        learned_order=learner.expected_order(task_type, written),
        models=[_model(model, totals.get(model, Evidence())) for model in written],
        other_models=[_model(model, e) for model, e in totals.items() if model not in written],
        first_attempts=len(calls),
        overrides=overrides,
        cost_usd=cost,
        unpriced_calls=unpriced,
        failed_first=failed,
        written_cost_usd=estimate,
        written_failed_first=round(failed_estimate, 2),
        written_unpriced_calls=unpriced_estimates,
    )


def routing_learning(
    db: Session, window: Window, config: SwitchboardConfig | RoutingConfig | None = None
) -> RoutingLearning:
    """Per task type the learned order, each model's totals, overrides and the written order's estimate.

    ``config``: the config in force (its providers give the built-in matrix's list); a ``RoutingConfig`` alone
    stands for a config with those lists and no providers.
    """
    if not isinstance(config, SwitchboardConfig):
        config = SwitchboardConfig(routing=config or RoutingConfig())
    routing = config.routing
    by_type: dict[str, dict[str, Evidence]] = {}
    team = select(RoutingStat).where(col(RoutingStat.user) == "")  # the whole store's: per-person rows are parts of it
    for row in db.exec(team.order_by(col(RoutingStat.task_type), col(RoutingStat.model))).all():
        by_type.setdefault(row.task_type, {})[row.model] = Evidence.of(row)
    learner = Learner(routing.learn)
    learner.replace({(t, m): e for t, models in by_type.items() for m, e in models.items()})
    return RoutingLearning(
        enabled=routing.learn.enabled,
        task_types=[_task_type(db, window, t, models, learner, config) for t, models in sorted(by_type.items())],
    )
