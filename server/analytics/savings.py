"""Savings: what delegated answers would have cost on the session's Claude model, minus what they cost, minus what
asking for them and reading them cost Claude (the whole extra request that read each result)."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, case, exists, func
from sqlmodel import Session, col, select

from server.analytics._claude_prices import Answer, claude_costs
from server.analytics._savings_groups import Totals, grouped_totals
from server.analytics._sql import count_if, ratio, select_columns, sum_if
from server.analytics.window import Window
from server.pricing import cost_usd
from server.store.models import AgentSession, Delegation, ModelUsage, SubagentRun

__all__ = ["DEFAULT_CLAUDE_MODEL", "METHOD", "RouteSavings", "Savings", "overhead_rates", "savings"]

DEFAULT_CLAUDE_MODEL = "claude-sonnet-4-5"

METHOD = (
    "Per delegate call that succeeded inside a Claude Code session (calls from other clients replaced no Claude "
    "work and are not counted): counterfactual = the answering attempt's tokens (uncached input, "
    "output, and cached input as cache reads) priced on the session's main Claude model (most output tokens "
    "in model_usage, else the session's first model, else {default}); actual = price table applied to the "
    "recorded tokens of every attempt of the call, failed fallbacks included; claude overhead = what the call "
    "cost Claude: the tool_use input it wrote (output tokens, counted from the call's text at 3 characters a "
    "token) and the extra request the call caused, the session's next main-agent request after it answered (the "
    "one that read the tool_result), its whole input as the transcript's usage records it (uncached, cache writes "
    "and the cache reads of the context it re-read) priced on that request's model, shared by the calls it read "
    "back; until that request is in the store, the tool_result's own tokens instead (written to the prompt cache "
    "in the share the session's own requests wrote to it, uncached otherwise); saved = counterfactual - actual - "
    "claude overhead, negative when delegating cost more than it saved. Calls with any unpriced attempt, or whose "
    "Claude model is unpriced, are excluded and counted; so are calls recorded before their Claude overhead was "
    "(unmeasured). Consensus runs are not counted. Delegation rate = delegate calls / (delegate calls + subagent "
    "runs): the share of handed-off work that went to another model."
)


class RouteSavings(BaseModel):
    """Savings of the calls answered by one route."""

    provider: str
    model: str
    calls: int
    actual_usd: float
    counterfactual_usd: float
    claude_overhead_usd: float = Field(default=0.0, description="Claude's tokens writing the calls and reading them.")
    saved_usd: float


class Savings(BaseModel):
    """Savings of the delegate calls made in the window."""

    method: str
    default_claude_model: str
    delegated_calls: int = Field(description="delegate calls that got an answer.")
    subagent_runs: int
    delegation_rate: float | None
    priced_calls: int
    unpriced_calls: int = Field(description="Excluded from the totals: some attempt or the Claude model unpriced.")
    unmeasured_calls: int = Field(
        default=0, description="Excluded from the totals: recorded before what they cost Claude was."
    )
    actual_usd: float
    counterfactual_usd: float
    claude_overhead_usd: float = Field(default=0.0, description="Claude's tokens writing the calls and reading them.")
    saved_usd: float = Field(description="counterfactual - actual - claude overhead; negative when it cost more.")
    claude_models: dict[str, int] = Field(description="Claude model used as the counterfactual -> calls.")
    by_route: list[RouteSavings]


def _claude_models(db: Session, where: list[ColumnElement[bool]], default: str) -> dict[str, str]:
    """Each delegating session's main Claude model: most main-agent output tokens, else its first model, else
    ``default``."""
    ids = select(Delegation.session_id).where(col(Delegation.session_id).is_not(None), *where).distinct()
    main_agent = col(ModelUsage.agent_id).is_(None)
    chosen: dict[str, tuple[int, str]] = {}
    statement = (
        select_columns(ModelUsage.session_id, ModelUsage.model, func.sum(ModelUsage.output_tokens))
        .where(col(ModelUsage.session_id).in_(ids), main_agent)
        .group_by(ModelUsage.session_id, ModelUsage.model)
    )
    connection = db.connection()
    for session_id, model, output in connection.execute(statement).all():
        best = chosen.get(session_id)
        if best is None or (output or 0, model) > best:
            chosen[session_id] = (output or 0, model)
    result = {sid: model for sid, (_, model) in chosen.items()}
    # Only sessions with no main-agent usage fall back to their first model: their JSON lists alone are decoded.
    has_usage = exists().where(col(ModelUsage.session_id) == col(AgentSession.session_id), main_agent)
    fallback = select(AgentSession.session_id, AgentSession.models).where(
        col(AgentSession.session_id).in_(ids), ~has_usage
    )
    for sid, models in db.exec(fallback):
        if sid not in result and models:
            result[sid] = models[0]
    return result


def _requests(db: Session, where: list[ColumnElement[bool]]) -> list[Any]:
    """Per delegate call: id, session, successful attempts, their tokens, the cost of all attempts, unpriced ones,
    and the provider and model of the answering attempt (a call stops at its first success)."""
    ok = col(Delegation.status) == "ok"
    unpriced = col(Delegation.cost_usd).is_(None) | ~col(Delegation.priced)
    statement = (
        select_columns(
            Delegation.request_id,
            func.max(Delegation.session_id),
            count_if(ok),
            sum_if(ok, Delegation.input_tokens),
            sum_if(ok, Delegation.output_tokens),
            sum_if(ok, Delegation.cached_tokens),
            func.sum(Delegation.cost_usd),
            count_if(unpriced),
            func.max(case((ok, Delegation.provider))),
            func.max(case((ok, Delegation.model))),
            count_if(ok & col(Delegation.claude_read_tokens).is_(None)),
            sum_if(ok, Delegation.claude_ask_tokens),
            sum_if(ok, Delegation.claude_read_tokens),
        )
        .where(*where)
        .group_by(Delegation.request_id)
    )
    return list(db.connection().execute(statement).all())


def _subagent_runs(db: Session, window: Window) -> int:
    clauses = [*window.time_clauses(SubagentRun.started_at), *window.session_clauses(SubagentRun.session_id)]
    return db.exec(select_columns(func.count()).where(*clauses)).one()[0]


def _per_call_totals(db: Session, where: list[ColumnElement[bool]], default: str) -> Totals:
    """The savings totals, each answered call priced on its own (exact past Claude's price tiers too)."""
    answered = [r for r in _requests(db, where) if r[2] > 0]
    claude = _claude_models(db, where, default)
    answers: list[Answer] = []
    for _, session_id, _, tin, tout, tcached, *_ in answered:
        model = claude.get(session_id, default) if session_id else default
        cached = min(tcached, tin)  # delegation.input_tokens include the cached ones
        answers.append((model, tin - cached, tout, cached))
    totals: dict[tuple[str, str], list[float]] = {}
    used: Counter[str] = Counter()
    unpriced_calls = unmeasured = 0
    for row, (model, *_), counterfactual in zip(answered, answers, claude_costs(answers), strict=True):
        actual, unpriced_n, provider, answer_model, unmeasured_n = row[6], row[7], row[8], row[9], row[10]
        if unpriced_n or actual is None or counterfactual is None:
            unpriced_calls += 1
            continue
        if unmeasured_n:
            unmeasured += 1
            continue
        used[model] += 1
        entry = totals.setdefault((provider, answer_model), [0, 0.0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += actual
        entry[2] += counterfactual
        entry[3] += counterfactual - actual
    return len(answered), unpriced_calls, unmeasured, used, totals


def _read_shares(db: Session, session_ids: set[str]) -> dict[str, float]:
    """Per session, the share of new input its main agent's requests wrote to the prompt cache (the rest was sent
    uncached): how a tool_result it read was most likely paid for."""
    if not session_ids:
        return {}
    statement = (
        select_columns(
            ModelUsage.session_id, func.sum(ModelUsage.input_tokens), func.sum(ModelUsage.cache_creation_tokens)
        )
        .where(col(ModelUsage.session_id).in_(session_ids), col(ModelUsage.agent_id).is_(None))
        .group_by(ModelUsage.session_id)
    )
    shares: dict[str, float] = {}
    for sid, uncached, written in db.connection().execute(statement).all():
        new = int(uncached or 0) + int(written or 0)
        shares[sid] = int(written or 0) / new if new else 0.0
    return shares


def overhead_rates(model: str) -> tuple[float, float, float] | None:
    """``model``'s price per output, uncached input and cache-write token (below any tier); None when unpriced."""
    probes = [cost_usd(model, output_tokens=1_000), cost_usd(model, input_tokens=1_000)]
    probes.append(cost_usd(model, cache_write_tokens=1_000))
    if any(p is None for p in probes):
        return None
    return (probes[0] or 0.0) / 1_000, (probes[1] or 0.0) / 1_000, (probes[2] or 0.0) / 1_000


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _next_requests(
    db: Session, calls: list[Any]
) -> dict[str, tuple[str, tuple[str, int, int, int, int, datetime | None]]]:
    """Per call (request id), the first main-agent request of its session after it answered: the one that read
    its tool_result and re-read the context before it, as (its message id, its model and input usage)."""
    by_session: dict[str, list[Any]] = {}
    for call in calls:
        by_session.setdefault(call.sid, []).append(call)
    found: dict[str, tuple[str, tuple[str, int, int, int, int, datetime | None]]] = {}
    for sid, mine in by_session.items():
        since = min(_aware(c.answered_at) for c in mine)
        statement = (
            select_columns(
                ModelUsage.message_id,
                ModelUsage.created_at,
                ModelUsage.model,
                ModelUsage.input_tokens,
                ModelUsage.cache_read_tokens,
                ModelUsage.cache_creation_tokens,
                ModelUsage.cache_creation_1h_tokens,
            )
            .where(
                col(ModelUsage.session_id) == sid,
                col(ModelUsage.agent_id).is_(None),
                col(ModelUsage.created_at) > since,
            )
            .order_by(col(ModelUsage.created_at), col(ModelUsage.id))
        )
        requests = [r for r in db.connection().execute(statement).all() if r[1] is not None]
        times = [_aware(r[1]) for r in requests]
        for call in mine:
            index = bisect_right(times, _aware(call.answered_at))
            if index < len(requests):
                r = requests[index]
                found[call.request_id] = (f"{sid}/{r[0]}", (r[2], r[3], r[4], r[5], r[6], r[1]))
    return found


def _context_cost(model: str, usage: tuple[str, int, int, int, int, datetime | None]) -> float | None:
    """A request's whole input (uncached, cache reads and writes) at its model's prices; None when unpriced."""
    _, uncached, read, written, written_1h, when = usage
    return cost_usd(
        model,
        input_tokens=uncached,
        cache_read_tokens=read,
        cache_write_tokens=written,
        cache_write_1h_tokens=written_1h,
        when=when,
    )


def _overheads(db: Session, where: list[ColumnElement[bool]], default: str) -> dict[tuple[str, str], float]:
    """What the counted calls cost Claude, per route: the tokens it wrote asking, and the extra request each call
    caused (the one that read its tool_result, with all the context it re-read), measured from the transcript's
    usage; a call whose next request is not in the store yet counts the tool_result's estimated tokens instead."""
    ok = col(Delegation.status) == "ok"
    unpriced = col(Delegation.cost_usd).is_(None) | ~col(Delegation.priced)
    calls = (
        select_columns(
            Delegation.request_id,
            func.max(Delegation.session_id).label("sid"),
            count_if(ok).label("ok"),
            count_if(unpriced).label("unpriced"),
            func.sum(Delegation.cost_usd).label("actual"),
            count_if(ok & col(Delegation.claude_read_tokens).is_(None)).label("unmeasured"),
            sum_if(ok, Delegation.claude_ask_tokens).label("ask"),
            sum_if(ok, Delegation.claude_read_tokens).label("read"),
            func.max(case((ok, Delegation.provider))).label("provider"),
            func.max(case((ok, Delegation.model))).label("route_model"),
            func.max(case((ok, Delegation.created_at))).label("answered_at"),
        )
        .where(*where)
        .group_by(Delegation.request_id)
        .subquery("calls")
    )
    k = calls.c
    counted = (k.ok > 0) & (k.unpriced == 0) & k.actual.is_not(None) & (k.unmeasured == 0)
    statement = select_columns(k.request_id, k.sid, k.provider, k.route_model, k.ask, k.read, k.answered_at).where(
        counted
    )
    rows = list(db.connection().execute(statement).all())
    claude = _claude_models(db, where, default)
    shares = _read_shares(db, {r.sid for r in rows})
    following = _next_requests(db, [r for r in rows if r.answered_at is not None])
    sharing = Counter(key for key, _ in following.values())  # parallel calls read back by one request share it
    rates: dict[str, tuple[float, float, float] | None] = {}
    out: dict[tuple[str, str], float] = {}
    for request_id, sid, provider, route_model, ask, read, _ in rows:
        model = claude.get(sid, default)
        found = rates[model] if model in rates else rates.setdefault(model, overhead_rates(model))
        if found is None:
            continue  # an unpriced Claude model: these calls are already left out as unpriced
        r_out, r_in, r_write = found
        cost = int(ask or 0) * r_out
        measured = following.get(request_id)
        context = _context_cost(measured[1][0], measured[1]) if measured else None
        if measured is not None and context is not None:
            cost += context / sharing[measured[0]]
        else:
            share = shares.get(sid, 0.0)
            cost += int(read or 0) * (share * r_write + (1 - share) * r_in)
        out[(provider, route_model)] = out.get((provider, route_model), 0.0) + cost
    return out


def savings(db: Session, window: Window, default_claude_model: str = DEFAULT_CLAUDE_MODEL) -> Savings:
    """Counterfactual Claude cost minus actual cost of the delegate calls made in ``window``; method included."""
    where = [
        col(Delegation.consensus_run_id).is_(None),
        # A call with no Claude Code session (the Inspector, a script) stood in for no Claude work: no saving.
        col(Delegation.session_id).is_not(None),
        *window.time_clauses(Delegation.created_at),
        *window.session_clauses(Delegation.session_id),
    ]
    found = grouped_totals(db, where, default_claude_model)
    answered, unpriced_calls, unmeasured, used, totals = found or _per_call_totals(db, where, default_claude_model)
    overheads = _overheads(db, where, default_claude_model)
    routes_out = sorted(
        (
            RouteSavings(
                provider=provider,
                model=model,
                calls=int(n),
                actual_usd=act,
                counterfactual_usd=cf,
                claude_overhead_usd=overheads.get((provider, model), 0.0),
                saved_usd=saved - overheads.get((provider, model), 0.0),
            )
            for (provider, model), (n, act, cf, saved) in totals.items()
        ),
        key=lambda r: (-r.saved_usd, r.provider, r.model),
    )
    subagents = _subagent_runs(db, window)
    return Savings(
        method=METHOD.format(default=default_claude_model),
        default_claude_model=default_claude_model,
        delegated_calls=answered,
        subagent_runs=subagents,
        delegation_rate=ratio(answered, answered + subagents),
        priced_calls=answered - unpriced_calls,
        unpriced_calls=unpriced_calls,
        unmeasured_calls=unmeasured,
        actual_usd=sum(r.actual_usd for r in routes_out),
        counterfactual_usd=sum(r.counterfactual_usd for r in routes_out),
        claude_overhead_usd=sum(r.claude_overhead_usd for r in routes_out),
        saved_usd=sum(r.saved_usd for r in routes_out),
        claude_models=dict(used),
        by_route=routes_out,
    )
