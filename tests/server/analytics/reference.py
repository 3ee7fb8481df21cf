"""The analytics numbers by their plain definitions: every row loaded, filtered and summed in Python.

This is what the queries computed before they were pushed into SQL (per-row loops, values fetched and sorted
for percentiles); the faster queries must return the same numbers.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from server.analytics._sql import nearest_rank
from server.analytics.subagents import nesting_depths
from server.analytics.window import Window
from server.pricing import cost_usd
from server.store.models import AgentSession, Delegation, ModelUsage, SubagentRun, ToolCall


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def in_window(window: Window, moment: datetime | None, session_id: str | None, projects: dict[str, str | None]) -> bool:
    """Whether a row with this time and session falls in ``window`` (as ``Window.apply`` filters)."""
    moment = _aware(moment)
    if window.since is not None and (moment is None or moment < window.since):
        return False
    if window.until is not None and (moment is None or moment >= window.until):
        return False
    if window.session_id is not None and session_id != window.session_id:
        return False
    return window.project is None or (session_id in projects and projects[session_id] == window.project)


def projects(db: Session) -> dict[str, str | None]:
    return {s.session_id: s.project for s in db.exec(select(AgentSession)).all()}


def sessions_summary(db: Session, window: Window) -> dict[str, Any]:
    where = projects(db)
    rows = [s for s in db.exec(select(AgentSession)).all() if in_window(window, s.started_at, s.session_id, where)]
    total = 0.0
    for s in rows:
        end = s.ended_at or s.last_event_at
        if s.started_at is not None and end is not None:
            total += max((end - s.started_at).total_seconds(), 0.0)
    ids = {s.session_id for s in rows}
    by_model: dict[str, dict[str, Any]] = {}
    for u in db.exec(select(ModelUsage)).all():
        if u.session_id not in ids:
            continue
        m = by_model.setdefault(
            u.model, {"model": u.model, "responses": 0, "in": 0, "out": 0, "read": 0, "write": 0, "cost": None, "un": 0}
        )
        m["responses"] += 1
        m["in"] += u.input_tokens
        m["out"] += u.output_tokens
        m["read"] += u.cache_read_tokens
        m["write"] += u.cache_creation_tokens
        if u.cost_usd is None:
            m["un"] += 1
        else:
            m["cost"] = (m["cost"] or 0.0) + u.cost_usd
    return {
        "sessions": len(rows),
        "ended": sum(1 for s in rows if s.ended_at is not None),
        "duration_s_total": total,
        "cost_usd": sum(s.cost_usd for s in rows if s.cost_usd is not None),
        "sessions_without_cost": sum(1 for s in rows if s.cost_usd is None),
        "by_model": sorted(by_model.values(), key=lambda m: (-m["out"], m["model"])),
    }


def _spread(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    values = sorted(values)
    return float(nearest_rank(values, 50)), float(nearest_rank(values, 95))


def tool_stats(db: Session, window: Window) -> dict[str, tuple[Any, ...]]:
    """Per tool: (calls, errors, pending, p50_ms, p95_ms)."""
    where = projects(db)
    calls: dict[str, list[ToolCall]] = {}
    for t in db.exec(select(ToolCall)).all():
        if in_window(window, t.started_at, t.session_id, where):
            calls.setdefault(t.tool_name, []).append(t)
    result: dict[str, tuple[Any, ...]] = {}
    for name, found in calls.items():
        p50, p95 = _spread([t.duration_ms for t in found if t.duration_ms is not None])
        errors = sum(1 for t in found if t.status == "error")
        pending = sum(1 for t in found if t.status == "pending")
        result[name] = (len(found), errors, pending, p50, p95)
    return result


def subagent_stats(db: Session, window: Window) -> dict[str, Any]:
    where = projects(db)
    runs = [r for r in db.exec(select(SubagentRun)).all() if in_window(window, r.started_at, r.session_id, where)]
    types: dict[str | None, list[SubagentRun]] = {}
    for r in runs:
        types.setdefault(r.agent_type, []).append(r)
    by_type: dict[str, tuple[Any, ...]] = {}
    for agent_type, found in types.items():
        costs = [r.cost_usd for r in found if r.cost_usd is not None]
        by_type[agent_type or "(untyped)"] = (
            len(found),
            sum(1 for r in found if r.parent_agent_id is not None),
            sum(r.input_tokens for r in found),
            sum(r.output_tokens for r in found),
            sum(r.cache_read_tokens for r in found),
            sum(r.cache_creation_tokens for r in found),
            sum(costs) if costs else None,
            sum(1 for r in found if r.cost_usd is None),
            *_spread([r.duration_ms for r in found if r.duration_ms is not None]),
        )
    depths = nesting_depths({r.agent_id: r.parent_agent_id for r in runs})
    return {"runs": len(runs), "max_depth": max(depths.values(), default=0), "by_type": by_type}


def _main_models(db: Session, default: str) -> dict[str | None, str]:
    output: dict[tuple[str, str], int] = Counter()
    for u in db.exec(select(ModelUsage)).all():
        if u.agent_id is None:
            output[(u.session_id, u.model)] += u.output_tokens
    chosen: dict[str | None, tuple[int, str]] = {}
    for (sid, model), out in output.items():
        if sid not in chosen or (out, model) > chosen[sid]:
            chosen[sid] = (out, model)
    result: dict[str | None, str] = {sid: model for sid, (_, model) in chosen.items()}
    for s in db.exec(select(AgentSession)).all():
        if s.session_id not in result and s.models:
            result[s.session_id] = s.models[0]
    return result


def savings(db: Session, window: Window, default: str = "claude-sonnet-4-5") -> dict[str, Any]:
    """Per delegate call: its Claude counterfactual, priced one answer at a time with ``cost_usd``."""
    where = projects(db)
    calls: dict[str, list[Delegation]] = {}
    for d in db.exec(select(Delegation)).all():
        in_session = d.session_id is not None
        if d.consensus_run_id is None and in_session and in_window(window, d.created_at, d.session_id, where):
            calls.setdefault(d.request_id, []).append(d)
    claude = _main_models(db, default)
    routes: dict[tuple[str, str], list[float]] = {}
    used: Counter[str] = Counter()
    answered = unpriced = unmeasured = 0
    sharing: Counter[int | None] = Counter()  # calls read back by the same request share its cost
    for attempts in calls.values():
        ok = [d for d in attempts if d.status == "ok"]
        priced = all(d.cost_usd is not None and d.priced for d in attempts)
        if ok and priced and all(d.claude_read_tokens is not None for d in ok):
            following = _next_request(db, attempts[0].session_id, ok)
            if following is not None:
                sharing[following.id] += 1
    for attempts in calls.values():
        ok = [d for d in attempts if d.status == "ok"]
        if not ok:
            continue
        answered += 1
        sid = attempts[0].session_id
        model = claude.get(sid, default) if sid else default
        tin = sum(d.input_tokens for d in ok)
        cached = min(sum(d.cached_tokens for d in ok), tin)
        counterfactual = cost_usd(
            model, input_tokens=tin - cached, output_tokens=sum(d.output_tokens for d in ok), cache_read_tokens=cached
        )
        if any(d.cost_usd is None or not d.priced for d in attempts) or counterfactual is None:
            unpriced += 1
            continue
        if any(d.claude_read_tokens is None for d in ok):
            unmeasured += 1
            continue
        actual = sum(d.cost_usd or 0.0 for d in attempts)
        used[model] += 1
        entry = routes.setdefault((ok[0].provider, ok[0].model), [0, 0.0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += actual
        entry[2] += counterfactual
        entry[3] += _claude_overhead(db, sid, model, ok, sharing)
    return {
        "delegated_calls": answered,
        "unpriced_calls": unpriced,
        "unmeasured_calls": unmeasured,
        "claude_models": dict(used),
        "routes": routes,
    }


def _next_request(db: Session, sid: str | None, ok: list[Delegation]) -> ModelUsage | None:
    """The session's first main-agent request after the call answered: the one that read its tool_result."""
    answered = max(_utc(d.created_at) for d in ok)
    later = [
        u
        for u in db.exec(select(ModelUsage)).all()
        if u.session_id == sid and u.agent_id is None and u.created_at is not None and _utc(u.created_at) > answered
    ]
    return min(later, key=lambda u: (_utc(u.created_at or answered), u.id or 0), default=None)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _claude_overhead(
    db: Session, sid: str | None, model: str, ok: list[Delegation], sharing: Counter[int | None]
) -> float:
    """What one call cost Claude: the tokens it wrote asking (output), and the whole input of the request that read
    its result (shared by the calls it read back); with no such request yet, the result's own tokens (written to
    the prompt cache in the share the session's main agent wrote to it), each call priced on its own."""
    ask = sum(d.claude_ask_tokens or 0 for d in ok)
    asking = cost_usd(model, output_tokens=ask) or 0.0
    following = _next_request(db, sid, ok)
    if following is not None:
        context = cost_usd(
            following.model,
            input_tokens=following.input_tokens,
            cache_read_tokens=following.cache_read_tokens,
            cache_write_tokens=following.cache_creation_tokens,
            cache_write_1h_tokens=following.cache_creation_1h_tokens,
            when=following.created_at,
        )
        if context is not None:
            return asking + context / sharing[following.id]
    main = [u for u in db.exec(select(ModelUsage)).all() if u.session_id == sid and u.agent_id is None]
    uncached = sum(u.input_tokens for u in main)
    written = sum(u.cache_creation_tokens for u in main)
    share = written / (uncached + written) if uncached + written else 0.0
    read = sum(d.claude_read_tokens or 0 for d in ok)
    reading = share * (cost_usd(model, cache_write_tokens=read) or 0.0)
    return asking + reading + (1 - share) * (cost_usd(model, input_tokens=read) or 0.0)
