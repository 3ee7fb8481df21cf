"""Provider health over time: breaker openings and error classes, from provider events and delegations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col

from server.analytics._sql import ratio, select_columns
from server.analytics.window import Window
from server.outcomes import counts_for_model, is_model_fault
from server.store.models import Delegation, ProviderEvent

__all__ = ["HealthBucket", "HealthReport", "ProviderHealth", "provider_health"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class HealthBucket(BaseModel):
    """One provider over one time bucket."""

    start: datetime
    provider: str
    calls: int = Field(default=0, description="Attempts that are a verdict on the provider: answers and faults.")
    failures: int = 0
    breaker_opens: int = 0
    errors: dict[str, int] = Field(default_factory=dict, description="Provider faults by error class.")


class ProviderHealth(BaseModel):
    """One provider over the whole window."""

    provider: str
    calls: int = Field(default=0, description="Attempts that are a verdict on the provider: answers and faults.")
    failures: int = 0
    error_rate: float | None = None
    breaker_opens: int = 0
    errors: dict[str, int] = Field(default_factory=dict, description="Provider faults by error class.")
    not_its_fault: dict[str, int] = Field(
        default_factory=dict,
        description="Attempts that failed for reasons not the provider's (missing key, refusal, the client's "
        "deadline...), by kind: shown, never counted as failures.",
    )
    breaker_state: str | None = Field(default=None, description="The latest breaker transition seen, if any.")
    last_failure_at: datetime | None = None


class HealthReport(BaseModel):
    """Provider health in the window, worst error rate first, and per time bucket."""

    bucket_s: float
    providers: list[ProviderHealth]
    timeline: list[HealthBucket]


def _bucket_start(moment: datetime, size: timedelta) -> datetime:
    return _EPOCH + ((moment - _EPOCH) // size) * size


def default_bucket(window: Window) -> timedelta:
    """An hour for windows up to two days, else a day."""
    if window.since is not None and (window.until or datetime.now(UTC)) - window.since <= timedelta(days=2):
        return timedelta(hours=1)
    return timedelta(days=1)


def _tally(rows: Sequence[Any], size: timedelta) -> tuple[Counter[tuple[str, datetime, str]], dict[str, datetime]]:
    """Delegations counted by (provider, bucket start, status), and each provider's latest failure."""
    counts: Counter[tuple[str, datetime, str]] = Counter()
    last_failure: dict[str, datetime] = {}
    for provider, status, moment in rows:
        counts[(provider, _bucket_start(moment, size), status)] += 1
        if is_model_fault(status) and (provider not in last_failure or moment > last_failure[provider]):
            last_failure[provider] = moment
    return counts, last_failure


def provider_health(db: Session, window: Window, bucket: timedelta | None = None) -> HealthReport:
    """Calls, failures by error class and breaker openings per provider, overall and per ``bucket``.

    Failures and their classes come from the delegation rows (``status``), provider faults only (the rule of
    :mod:`server.outcomes`; the rest is listed under ``not_its_fault``); breaker openings and state from
    ``provider_event`` (its ``error`` events repeat what the delegation rows say, so they are not counted twice).
    """
    size = bucket or default_bucket(window)
    d_where = [*window.time_clauses(Delegation.created_at), *window.session_clauses(Delegation.session_id)]
    e_where = [*window.time_clauses(ProviderEvent.created_at), *window.session_clauses(ProviderEvent.session_id)]
    rows = db.exec(select_columns(Delegation.provider, Delegation.status, Delegation.created_at).where(*d_where)).all()
    counts, last_failure = _tally(rows, size)
    providers: dict[str, ProviderHealth] = {}
    buckets: dict[tuple[datetime, str], HealthBucket] = {}

    def slot(provider: str, start: datetime) -> tuple[ProviderHealth, HealthBucket]:
        overall = providers.setdefault(provider, ProviderHealth(provider=provider))
        return overall, buckets.setdefault((start, provider), HealthBucket(start=start, provider=provider))

    for (provider, start, status), n in counts.items():
        overall, part = slot(provider, start)
        if not counts_for_model(status):
            overall.not_its_fault[status] = overall.not_its_fault.get(status, 0) + n
            continue
        overall.calls += n
        part.calls += n
        if status != "ok":
            for target in (overall, part):
                target.failures += n
                target.errors[status] = target.errors.get(status, 0) + n
    events = db.exec(
        select_columns(ProviderEvent.provider, ProviderEvent.event, ProviderEvent.created_at)
        .where(col(ProviderEvent.event).like("breaker_%"), *e_where)
        .order_by(col(ProviderEvent.created_at))
    ).all()
    for provider, event, created in events:
        overall, part = slot(provider, _bucket_start(created, size))
        overall.breaker_state = event.removeprefix("breaker_")
        if event == "breaker_open":
            overall.breaker_opens += 1
            part.breaker_opens += 1
    for health in providers.values():
        health.error_rate = ratio(health.failures, health.calls)
        health.last_failure_at = last_failure.get(health.provider)
    ordered = sorted(providers.values(), key=lambda h: (-(h.error_rate or 0.0), -h.breaker_opens, h.provider))
    timeline = sorted(buckets.values(), key=lambda b: (b.start, b.provider))
    return HealthReport(bucket_s=size.total_seconds(), providers=ordered, timeline=timeline)
