"""The routing pages: delegations and consensus runs, provider health, and patterns with recommendations.

Aggregates come from analytics. The recent-row lists (last delegation attempts, consensus runs, breaker
events) are plain selects with a limit: analytics has no row listing for them; the attempts' tasks and
answers come from analytics' ``delegation_items``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from server.analytics.delegation_items import DelegationItem, delegation_items
from server.analytics.delegations import DelegationStats, delegation_stats
from server.analytics.health import HealthReport, provider_health
from server.analytics.patterns import Patterns, find_patterns
from server.analytics.savings import Savings, savings
from server.analytics.tools import tool_stats
from server.analytics.window import Window
from server.limits import MAX_DAYS
from server.store.models import ConsensusRun, Delegation, ProviderEvent, utcnow

__all__ = [
    "DelegationsView",
    "PatternsView",
    "ProvidersView",
    "RangeFilter",
    "RecentAttempt",
    "delegations_view",
    "patterns_view",
    "providers_view",
]

RECENT_ROWS = 50


class RangeFilter(BaseModel):
    """How far back a page looks."""

    days: float = Field(default=7, gt=0, le=MAX_DAYS)

    def window(self, now: datetime | None = None, user: str | None = None) -> Window:
        """The last ``days`` days up to ``now``; ``user``: only that person's sessions and what they delegated."""
        return Window(since=(now or utcnow()) - timedelta(days=self.days), user=user)


class RecentAttempt(BaseModel):
    """One of the latest delegation attempts: its session, whether the cache answered, task and answer."""

    session_id: str | None
    cache_hit: bool
    item: DelegationItem


class DelegationsView(BaseModel):
    """Delegations by route, consensus by strategy, savings, and the latest attempts and consensus runs."""

    range: RangeFilter
    stats: DelegationStats
    savings: Savings
    recent: list[RecentAttempt]
    consensus_runs: list[ConsensusRun]


class ProvidersView(BaseModel):
    """Provider health over time, latency percentiles per route, and the latest breaker events."""

    range: RangeFilter
    health: HealthReport
    stats: DelegationStats
    events: list[ProviderEvent]


class PatternsView(BaseModel):
    """Success and failure patterns by task type and model, slow or failing tools, recommendations."""

    range: RangeFilter
    patterns: Patterns


def _recent_attempts(db: Session, window: Window) -> list[RecentAttempt]:
    statement = window.apply(select(Delegation), Delegation.created_at, Delegation.session_id)
    rows = list(db.exec(statement.order_by(col(Delegation.created_at).desc()).limit(RECENT_ROWS)).all())
    items = delegation_items(db, rows)
    return [
        RecentAttempt(session_id=row.session_id, cache_hit=row.cache_hit, item=item)
        for row, item in zip(rows, items, strict=True)
    ]


def _recent_consensus(db: Session, window: Window) -> list[ConsensusRun]:
    statement = window.apply(select(ConsensusRun), ConsensusRun.created_at, ConsensusRun.session_id)
    return list(db.exec(statement.order_by(col(ConsensusRun.created_at).desc()).limit(RECENT_ROWS)).all())


def _breaker_events(db: Session, window: Window) -> list[ProviderEvent]:
    statement = window.apply(select(ProviderEvent), ProviderEvent.created_at, ProviderEvent.session_id)
    return list(db.exec(statement.order_by(col(ProviderEvent.created_at).desc()).limit(RECENT_ROWS)).all())


def delegations_view(db: Session, selected: RangeFilter, user: str | None = None) -> DelegationsView:
    """The delegations page over the last ``selected.days`` days."""
    window = selected.window(user=user)
    return DelegationsView(
        range=selected,
        stats=delegation_stats(db, window),
        savings=savings(db, window),
        recent=_recent_attempts(db, window),
        consensus_runs=_recent_consensus(db, window),
    )


def providers_view(db: Session, selected: RangeFilter, user: str | None = None) -> ProvidersView:
    """The providers page over the last ``selected.days`` days."""
    window = selected.window(user=user)
    return ProvidersView(
        range=selected,
        health=provider_health(db, window),
        stats=delegation_stats(db, window),
        events=_breaker_events(db, window),
    )


def patterns_view(db: Session, selected: RangeFilter, user: str | None = None) -> PatternsView:
    """The patterns page over the last ``selected.days`` days."""
    window = selected.window(user=user)
    return PatternsView(range=selected, patterns=find_patterns(delegation_stats(db, window), tool_stats(db, window)))
