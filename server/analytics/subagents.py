"""Subagent runs: by type, with tokens, cost, duration and how deeply they nest."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import Session

from server.analytics._sql import percentiles, select_columns
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


def subagent_stats(db: Session, window: Window) -> SubagentStats:
    """Runs by type with tokens, cost, p50/p95 duration and nesting, for runs started in ``window``."""
    where = [*window.time_clauses(SubagentRun.started_at), *window.session_clauses(SubagentRun.session_id)]
    runs = db.exec(
        select_columns(
            SubagentRun.agent_id,
            SubagentRun.parent_agent_id,
            SubagentRun.agent_type,
            SubagentRun.input_tokens,
            SubagentRun.output_tokens,
            SubagentRun.cache_read_tokens,
            SubagentRun.cache_creation_tokens,
            SubagentRun.cost_usd,
        ).where(*where)
    ).all()
    depths = nesting_depths({r[0]: r[1] for r in runs})
    spread = percentiles(db, SubagentRun.duration_ms, [SubagentRun.agent_type], where)
    by_type: dict[str, SubagentTypeStat] = {}
    for _, parent, agent_type, tin, tout, tread, twrite, cost in runs:
        key = agent_type or UNTYPED
        stat = by_type.get(key)
        if stat is None:
            p = spread.get((agent_type,))
            stat = by_type[key] = SubagentTypeStat(
                agent_type=key,
                runs=0,
                nested_runs=0,
                input_tokens=0,
                output_tokens=0,
                cache_read_tokens=0,
                cache_creation_tokens=0,
                cost_usd=None,
                unpriced_runs=0,
                p50_ms=p.p50 if p else None,
                p95_ms=p.p95 if p else None,
            )
        stat.runs += 1
        stat.nested_runs += parent is not None
        stat.input_tokens += tin
        stat.output_tokens += tout
        stat.cache_read_tokens += tread
        stat.cache_creation_tokens += twrite
        stat.cost_usd = _add(stat.cost_usd, cost)
        stat.unpriced_runs += cost is None
    types = sorted(by_type.values(), key=lambda s: (-s.runs, s.agent_type))
    total: float | None = 0.0 if not runs else None
    for stat in types:
        total = _add(total, stat.cost_usd)
    return SubagentStats(
        runs=len(runs),
        cost_usd=total,
        unpriced_runs=sum(s.unpriced_runs for s in types),
        max_depth=max(depths.values(), default=0),
        by_type=types,
    )
