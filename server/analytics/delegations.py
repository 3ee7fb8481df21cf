"""Delegations: per provider, model and task type; and consensus runs."""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field
from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col

from server.analytics._sql import count_if, group_key, percentiles, ratio, select_columns
from server.analytics.window import Window
from server.outcomes import MODEL_FAULTS, is_model_fault
from server.store.models import ConsensusRun, Delegation

__all__ = ["ConsensusStat", "DelegationStat", "DelegationStats", "delegation_stats"]

NO_TASK_TYPE = "(none)"


class DelegationStat(BaseModel):
    """The attempts of one route: a provider, a model and a task type."""

    provider: str
    model: str
    task_type: str
    calls: int = Field(description="Attempts, fallbacks and consensus members included.")
    ok: int
    judged: int = Field(
        description="Attempts that are a verdict on the model: answers and provider faults (not a missing key, "
        "a refusal, an open breaker or the client's cancellation or deadline)."
    )
    success_rate: float | None = Field(description="ok / judged.")
    fallbacks: int = Field(description="Attempts made as a fallback (attempt > 0).")
    cache_hits: int
    p50_ms: float | None
    p95_ms: float | None
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: float | None = Field(description="Price table applied to recorded tokens; None when none priced.")
    unpriced_calls: int = Field(description="Attempts on a model with no known price: not counted as $0.")

    @property
    def route(self) -> str:
        """``provider:model``."""
        return f"{self.provider}:{self.model}"


class ConsensusStat(BaseModel):
    """Consensus runs of one strategy."""

    strategy: str
    runs: int
    ok: int
    mean_agreement: float | None
    cost_usd: float | None
    p50_ms: float | None


class DelegationStats(BaseModel):
    """Delegation attempts made in the window."""

    calls: int
    requests: int = Field(description="delegate calls (distinct request ids); each may have several attempts.")
    ok: int
    success_rate: float | None
    fallbacks: int
    cache_hits: int
    cost_usd: float | None = Field(description="Sum of the priced attempts: a lower bound when unpriced_calls > 0.")
    unpriced_calls: int
    errors: dict[str, int] = Field(
        description="Failed attempts by error class (the status column): the model's or its provider's faults only."
    )
    refusals: dict[str, int] = Field(
        default_factory=dict[str, int],
        description="Attempts refused or cut short for a reason that is not the model's (a missing key, a budget, "
        "max_cost_usd, an open breaker, the client's deadline or cancellation), by kind: not in success_rate.",
    )
    by_route: list[DelegationStat]
    consensus: list[ConsensusStat]

    @computed_field
    @property
    def cost_summary(self) -> str:
        """The total as people should read it: ``at least $X, n unpriced`` when some cost is unknown."""
        from server.analytics.text import at_least

        return at_least(self.cost_usd, self.unpriced_calls)


def _judged() -> ColumnElement[bool]:
    """The rows :func:`server.outcomes.counts_for_model` counts, in SQL."""
    return (col(Delegation.status) == "ok") | col(Delegation.status).in_(sorted(MODEL_FAULTS))


def _routes(db: Session, window: Window) -> list[DelegationStat]:
    where = [*window.time_clauses(Delegation.created_at), *window.session_clauses(Delegation.session_id)]
    groups = [col(Delegation.provider), col(Delegation.model), col(Delegation.task_type)]
    unpriced = col(Delegation.cost_usd).is_(None) | ~col(Delegation.priced)
    statement = (
        select_columns(
            *groups,
            func.count(),
            count_if(col(Delegation.status) == "ok"),
            count_if(_judged()),
            count_if(col(Delegation.attempt) > 0),
            count_if(col(Delegation.cache_hit).is_(True)),
            func.coalesce(func.sum(Delegation.input_tokens), 0),
            func.coalesce(func.sum(Delegation.output_tokens), 0),
            func.coalesce(func.sum(Delegation.cached_tokens), 0),
            func.sum(Delegation.cost_usd),
            count_if(unpriced),
        )
        .where(*where)
        .group_by(*(group_key(g) for g in groups))
    )
    spread = percentiles(db, Delegation.latency_ms, groups, where)
    stats: list[DelegationStat] = []
    for provider, model, task_type, calls, ok, judged, fallbacks, hits, tin, tout, tcached, cost, unpriced_n in db.exec(
        statement
    ).all():
        p = spread.get((provider, model, task_type))
        stats.append(
            DelegationStat(
                provider=provider,
                model=model,
                task_type=task_type or NO_TASK_TYPE,
                calls=calls,
                ok=ok,
                judged=judged,
                success_rate=ratio(ok, judged),
                fallbacks=fallbacks,
                cache_hits=hits,
                p50_ms=p.p50 if p else None,
                p95_ms=p.p95 if p else None,
                input_tokens=tin,
                output_tokens=tout,
                cached_tokens=tcached,
                cost_usd=None if cost is None else float(cost),
                unpriced_calls=unpriced_n,
            )
        )
    return sorted(stats, key=lambda s: (-s.calls, s.route, s.task_type))


def _errors(db: Session, window: Window) -> tuple[dict[str, int], dict[str, int]]:
    """Attempts that did not answer by status: (the model's faults, the refusals that are not the model's)."""
    where = [*window.time_clauses(Delegation.created_at), *window.session_clauses(Delegation.session_id)]
    statement = (
        select_columns(Delegation.status, func.count())
        .where(col(Delegation.status) != "ok", *where)
        .group_by(group_key(Delegation.status))
    )
    faults: dict[str, int] = {}
    refusals: dict[str, int] = {}
    for status, n in db.exec(statement).all():
        (faults if is_model_fault(status) else refusals)[status] = n
    return faults, refusals


def _requests(db: Session, window: Window) -> int:
    where = [*window.time_clauses(Delegation.created_at), *window.session_clauses(Delegation.session_id)]
    statement = select_columns(func.count(func.distinct(Delegation.request_id))).where(*where)
    return db.exec(statement).one()[0]


def _consensus(db: Session, window: Window) -> list[ConsensusStat]:
    where = [*window.time_clauses(ConsensusRun.created_at), *window.session_clauses(ConsensusRun.session_id)]
    statement = (
        select_columns(
            ConsensusRun.strategy,
            func.count(),
            count_if(col(ConsensusRun.status) == "ok"),
            func.avg(ConsensusRun.agreement),
            func.sum(ConsensusRun.total_cost_usd),
        )
        .where(*where)
        .group_by(ConsensusRun.strategy)
    )
    spread = percentiles(db, ConsensusRun.latency_ms, [ConsensusRun.strategy], where)
    result: list[ConsensusStat] = []
    for strategy, runs, ok, agreement, cost in db.exec(statement).all():
        p = spread.get((strategy,))
        result.append(
            ConsensusStat(
                strategy=strategy,
                runs=runs,
                ok=ok,
                mean_agreement=None if agreement is None else float(agreement),
                cost_usd=None if cost is None else float(cost),
                p50_ms=p.p50 if p else None,
            )
        )
    return sorted(result, key=lambda c: (-c.runs, c.strategy))


def delegation_stats(db: Session, window: Window) -> DelegationStats:
    """Calls, success rate, p50/p95 latency, tokens, cost, cache hits and fallbacks per route; consensus runs."""
    routes = _routes(db, window)
    calls = sum(r.calls for r in routes)
    ok = sum(r.ok for r in routes)
    judged = sum(r.judged for r in routes)
    priced = [r.cost_usd for r in routes if r.cost_usd is not None]
    errors, refusals = _errors(db, window)
    return DelegationStats(
        calls=calls,
        requests=_requests(db, window),
        ok=ok,
        success_rate=ratio(ok, judged),
        fallbacks=sum(r.fallbacks for r in routes),
        cache_hits=sum(r.cache_hits for r in routes),
        cost_usd=sum(priced) if priced or not calls else None,
        unpriced_calls=sum(r.unpriced_calls for r in routes),
        errors=errors,
        refusals=refusals,
        by_route=routes,
        consensus=_consensus(db, window),
    )
