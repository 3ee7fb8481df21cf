"""Savings: what delegated answers would have cost on the session's Claude model, minus what they cost, minus what
asking for them and reading them cost Claude."""

from __future__ import annotations

from collections import Counter
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
    "cost Claude: the tool_use input it wrote (output tokens) and the tool_result it read (input tokens: written "
    "to the prompt cache in the share the session's own requests wrote to it, uncached otherwise), priced on the "
    "same model, both counted from the call's text at 3 characters a token; saved = counterfactual - actual - "
    "claude overhead, negative when delegating cost more than it saved. Later turns re-reading the result from "
    "the cache are not counted. Calls with any unpriced attempt, or whose Claude model is unpriced, are excluded "
    "and counted; so are calls recorded before their Claude overhead was (unmeasured). Consensus runs are not "
    "counted. Delegation rate = delegate calls / (delegate calls + subagent runs): the share of handed-off work "
    "that went to another model."
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


def _overheads(db: Session, where: list[ColumnElement[bool]], default: str) -> dict[tuple[str, str], float]:
    """What the counted calls cost Claude, per route: the tokens it wrote asking and read back, at its rates."""
    ok = col(Delegation.status) == "ok"
    unpriced = col(Delegation.cost_usd).is_(None) | ~col(Delegation.priced)
    calls = (
        select_columns(
            func.max(Delegation.session_id).label("sid"),
            count_if(ok).label("ok"),
            count_if(unpriced).label("unpriced"),
            func.sum(Delegation.cost_usd).label("actual"),
            count_if(ok & col(Delegation.claude_read_tokens).is_(None)).label("unmeasured"),
            sum_if(ok, Delegation.claude_ask_tokens).label("ask"),
            sum_if(ok, Delegation.claude_read_tokens).label("read"),
            func.max(case((ok, Delegation.provider))).label("provider"),
            func.max(case((ok, Delegation.model))).label("route_model"),
        )
        .where(*where)
        .group_by(Delegation.request_id)
        .subquery("calls")
    )
    k = calls.c
    counted = (k.ok > 0) & (k.unpriced == 0) & k.actual.is_not(None) & (k.unmeasured == 0)
    statement = (
        select_columns(k.sid, k.provider, k.route_model, func.sum(k.ask), func.sum(k.read))
        .where(counted)
        .group_by(k.sid, k.provider, k.route_model)
    )
    groups = list(db.connection().execute(statement).all())
    claude = _claude_models(db, where, default)
    shares = _read_shares(db, {g[0] for g in groups})
    rates: dict[str, tuple[float, float, float] | None] = {}
    out: dict[tuple[str, str], float] = {}
    for sid, provider, route_model, ask, read in groups:
        model = claude.get(sid, default)
        found = rates[model] if model in rates else rates.setdefault(model, overhead_rates(model))
        if found is None:
            continue  # an unpriced Claude model: these calls are already left out as unpriced
        r_out, r_in, r_write = found
        share = shares.get(sid, 0.0)
        cost = int(ask or 0) * r_out + int(read or 0) * (share * r_write + (1 - share) * r_in)
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
