"""The overview: spend today, 7 and 30 days, savings, delegation rate, top tools, provider health, recent sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from pydantic import BaseModel, Field, computed_field
from sqlmodel import Session

from server.analytics.context import ContextPressure, context_pressure
from server.analytics.delegations import DelegationStats, delegation_stats
from server.analytics.health import HealthBucket, ProviderHealth, provider_health
from server.analytics.savings import Savings, savings
from server.analytics.sessions import (
    AgentTotals,
    ModelTokens,
    SessionRow,
    recent_sessions,
    sessions_by_agent,
    tokens_by_model,
)
from server.analytics.spend import Spend, spend_since
from server.analytics.subagents import SubagentStats, subagent_stats
from server.analytics.tools import ToolStat, tool_stats
from server.analytics.window import Window
from server.config import ContextConfig
from server.store.models import utcnow

__all__ = ["OverviewView", "SpendWindow", "overview"]

SPEND_WINDOWS: tuple[tuple[str, int | None], ...] = (("Today", None), ("7 days", 7), ("30 days", 30))
RECENT_SESSIONS = 10
TOP_TOOLS = 8


class SpendWindow(Spend):
    """Spend over one window: Claude Code sessions' cost of record, and delegations' cost."""

    label: str
    zone: str | None = Field(default=None, description='For "Today": the zone its day is counted in.')

    @computed_field
    @property
    def total_usd(self) -> float:
        """Sessions' cost of record plus priced delegations (unpriced usage is counted apart, never as $0)."""
        return self.session_cost_usd + (self.delegation_cost_usd or 0.0)


class OverviewView(BaseModel):
    """The overview page."""

    generated_at: datetime
    spend: list[SpendWindow]
    savings: Savings = Field(description="Savings and delegation rate, last 30 days.")
    delegations: DelegationStats = Field(description="Delegations, last 7 days.")
    providers: list[ProviderHealth] = Field(description="Provider health, last 7 days.")
    provider_timeline: list[HealthBucket] = Field(description="Calls and failures per provider per day, 7 days.")
    by_model: list[ModelTokens] = Field(description="Tokens by model, last 30 days.")
    by_agent: list[AgentTotals] = Field(default_factory=list[AgentTotals], description="Per agent, last 30 days.")
    top_tools: list[ToolStat] = Field(description="Busiest tools, last 7 days.")
    subagents: SubagentStats = Field(description="Subagent runs, last 7 days.")
    context: ContextPressure = Field(description="Context-window pressure, last 7 days.")
    recent_sessions: list[SessionRow]


def start_of_today(now: datetime, zone: tzinfo | None = None) -> datetime:
    """Midnight of ``now``'s day in ``zone`` (default: this machine's, the user's: the page is served locally)."""
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def zone_label(now: datetime, zone: tzinfo | None = None) -> str:
    """The zone "Today" is counted in, e.g. ``CET, UTC+01:00``."""
    local = now.astimezone(zone)
    offset = local.strftime("%z")
    shown = f"UTC{offset[:3]}:{offset[3:]}" if offset and offset != "+0000" else "UTC"
    name = local.tzname()
    return shown if not name or name == "UTC" or name.startswith(("+", "-")) else f"{name}, {shown}"


def overview(
    db: Session,
    now: datetime | None = None,
    context: ContextConfig | None = None,
    zone: tzinfo | None = None,
    user: str | None = None,
) -> OverviewView:
    """Everything the overview page shows, as of ``now`` (default: now); ``context``: config ``[context]``;
    ``zone``: where "Today" starts (default: the machine's local zone); ``user``: only that person's sessions
    and what they delegated."""
    now = now or utcnow()
    starts = [start_of_today(now, zone) if days is None else now - timedelta(days=days) for _, days in SPEND_WINDOWS]
    zones = [zone_label(now, zone) if days is None else None for _, days in SPEND_WINDOWS]
    # One conditional-sum pass for the three spend cards; the full summaries are built once, for their own card.
    spend = [
        SpendWindow(label=label, zone=shown, **totals.model_dump())
        for (label, _), shown, totals in zip(SPEND_WINDOWS, zones, spend_since(db, starts, user=user), strict=True)
    ]
    week = Window(since=now - timedelta(days=7), user=user)
    month = Window(since=now - timedelta(days=30), user=user)
    health = provider_health(db, week, bucket=timedelta(days=1))
    return OverviewView(
        generated_at=now,
        spend=spend,
        savings=savings(db, month),
        delegations=delegation_stats(db, week),
        providers=health.providers,
        provider_timeline=health.timeline,
        by_model=tokens_by_model(db, month),
        by_agent=sessions_by_agent(db, month),
        top_tools=tool_stats(db, week).tools[:TOP_TOOLS],
        subagents=subagent_stats(db, week),
        context=context_pressure(db, week, context, limit=5),
        recent_sessions=recent_sessions(db, Window(user=user), limit=RECENT_SESSIONS),
    )
