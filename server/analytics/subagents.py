"""Subagent runs: by type, with tokens, cost, duration and how deeply they nest."""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field
from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from server.analytics._sql import count_if, group_key, percentiles, select_columns
from server.analytics.telemetry import subagent_cost
from server.analytics.window import Window
from server.store.models import SubagentRun

__all__ = ["SubagentStats", "SubagentTypeStat", "nesting_depths", "subagent_stats"]

UNTYPED = "(untyped)"


class SubagentTypeStat(BaseModel):
    """Runs of one subagent type."""

    agent_type: str
    runs: int
    nested_runs: int = Field(description="Runs started by another subagent rather than the main agent.")
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    cost_usd: float | None = Field(description="Sum over priced runs; None when no run is priced.")
    unpriced_runs: int = Field(description="Runs with some unpriced usage: not counted as $0.")
    p50_ms: float | None
    p95_ms: float | None


class SubagentStats(BaseModel):
    """Subagent runs started in the window, most runs first."""

    runs: int
    cost_usd: float | None
    unpriced_runs: int
    max_depth: int = Field(description="1: started by the main agent; 2: by such a subagent; and so on.")
    by_type: list[SubagentTypeStat]

    @computed_field
    @property
    def cost_summary(self) -> str:
        """The total as people should read it: ``at least $X, n unpriced`` when some cost is unknown."""
        from server.analytics.text import at_least

        return at_least(self.cost_usd, self.unpriced_runs)


def nesting_depths(parents: dict[str, str | None]) -> dict[str, int]:
    """Depth of each agent id given its parent (None: the main agent); unknown parents count as depth 1."""
    depths: dict[str, int] = {}

    def depth(agent_id: str) -> int:
        seen: list[str] = []
        current: str | None = agent_id
        while current is not None and current in parents and current not in depths and current not in seen:
            seen.append(current)
            current = parents[current]
        base = depths.get(current, 0) if current is not None else 0
        for offset, node in enumerate(reversed(seen), start=1):
            depths[node] = base + offset
        return depths[agent_id]

    for agent_id in parents:
        depth(agent_id)
    return depths


def _add(total: float | None, value: float | None) -> float | None:
    if value is None:
        return total
    return value if total is None else total + value


def _max_depth(db: Session, where: list[ColumnElement[bool]], runs: int) -> int:
    """The deepest nesting among the runs under ``where`` (0 when there are none)."""
    nested = col(SubagentRun.parent_agent_id).is_not(None)
    parents_in_window = select(SubagentRun.parent_agent_id).where(nested, *where)
    # Only nested runs and the runs they hang from can be deeper than 1: fetch those, not every run.
    statement = select_columns(SubagentRun.agent_id, SubagentRun.parent_agent_id).where(
        nested | col(SubagentRun.agent_id).in_(parents_in_window), *where
    )
    parents: dict[str, str | None] = {r[0]: r[1] for r in db.connection().execute(statement).all()}
    return max(nesting_depths(parents).values(), default=1 if runs else 0)


def subagent_stats(db: Session, window: Window) -> SubagentStats:
    """Runs by type with tokens, cost, p50/p95 duration and nesting, for runs started in ``window``."""
    where = [*window.time_clauses(SubagentRun.started_at), *window.session_clauses(SubagentRun.session_id)]
    cost = subagent_cost()  # Claude Code's own figure where the session exported telemetry
    statement = (
        select_columns(
            SubagentRun.agent_type,
            func.count(),
            count_if(col(SubagentRun.parent_agent_id).is_not(None)),
            func.coalesce(func.sum(SubagentRun.input_tokens), 0),
            func.coalesce(func.sum(SubagentRun.output_tokens), 0),
            func.coalesce(func.sum(SubagentRun.cache_read_tokens), 0),
            func.coalesce(func.sum(SubagentRun.cache_creation_tokens), 0),
            func.sum(cost),
            count_if(cost.is_(None)),
        )
        .where(*where)
        .group_by(group_key(SubagentRun.agent_type))
    )
    groups = db.connection().execute(statement).all()
    spread = percentiles(db, SubagentRun.duration_ms, [SubagentRun.agent_type], where)
    by_type: dict[str, SubagentTypeStat] = {}
    for agent_type, runs, nested, tin, tout, tread, twrite, cost, unpriced in groups:
        p = spread.get((agent_type,))
        stat = SubagentTypeStat(
            agent_type=agent_type or UNTYPED,
            runs=runs,
            nested_runs=nested,
            input_tokens=tin,
            output_tokens=tout,
            cache_read_tokens=tread,
            cache_creation_tokens=twrite,
            cost_usd=None if cost is None else float(cost),
            unpriced_runs=unpriced,
            p50_ms=p.p50 if p else None,
            p95_ms=p.p95 if p else None,
        )
        key = stat.agent_type
        if key in by_type:  # a NULL type and a type literally named like UNTYPED share one row
            stat = _merge(by_type[key], stat)
        by_type[key] = stat
    types = sorted(by_type.values(), key=lambda s: (-s.runs, s.agent_type))
    runs_total = sum(s.runs for s in types)
    total: float | None = 0.0 if not runs_total else None
    for stat in types:
        total = _add(total, stat.cost_usd)
    return SubagentStats(
        runs=runs_total,
        cost_usd=total,
        unpriced_runs=sum(s.unpriced_runs for s in types),
        max_depth=_max_depth(db, where, runs_total),
        by_type=types,
    )


def _merge(first: SubagentTypeStat, second: SubagentTypeStat) -> SubagentTypeStat:
    return first.model_copy(
        update={
            "runs": first.runs + second.runs,
            "nested_runs": first.nested_runs + second.nested_runs,
            "input_tokens": first.input_tokens + second.input_tokens,
            "output_tokens": first.output_tokens + second.output_tokens,
            "cache_read_tokens": first.cache_read_tokens + second.cache_read_tokens,
            "cache_creation_tokens": first.cache_creation_tokens + second.cache_creation_tokens,
            "cost_usd": _add(first.cost_usd, second.cost_usd),
            "unpriced_runs": first.unpriced_runs + second.unpriced_runs,
        }
    )
