"""Savings summed in SQL: answered delegate calls grouped by their session's main Claude model and their route.

The per-call definition (``savings._per_call_totals``) fetches one row per delegate call and prices each one;
on a store with 14,000 calls that is most of a savings report's time. Below Claude's price tiers a
counterfactual is linear in the tokens, so a group's token sums priced once give the same total. The
database looks up each call's session's main model (most main-agent output tokens, ties to the greater name)
and returns a few dozen groups. A batch reaching a tier returns None: the caller prices call by call.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from server.analytics._claude_prices import linear_up_to, unit_rates
from server.analytics._sql import count_if, select_columns, sum_if
from server.store.models import AgentSession, Delegation, ModelUsage

__all__ = ["UNMEASURED", "UNPRICED", "Totals", "grouped_totals"]

Totals = tuple[int, int, int, Counter[str], dict[tuple[str, str], list[float]]]
"""``(answered calls, unpriced calls, unmeasured calls, calls per Claude model, (provider, model) -> [calls, actual,
cf, saved])``; unmeasured: answered before the tokens they cost Claude were recorded."""

UNPRICED, UNMEASURED = 1, 2
"""Why a call is left out of the totals (the ``excluded`` column)."""


class code_point_order(FunctionElement[str]):
    """A string ordered by code point, as Python compares ``str`` (PostgreSQL's default collation may not)."""

    inherit_cache = True
    name = "code_point_order"


@compiles(code_point_order)
def _code_point_order(element: code_point_order, compiler: SQLCompiler, **kw: Any) -> str:
    return f'{compiler.process(element.clauses, **kw)} COLLATE "C"'


@compiles(code_point_order, "sqlite")
def _code_point_order_sqlite(element: code_point_order, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)  # SQLite's default BINARY collation already is


def _main_model(session_id: Any) -> Any:
    """The session's model with the most main-agent output tokens (the greater name on a tie), or NULL."""
    output = func.sum(ModelUsage.output_tokens)
    return (
        select(ModelUsage.model)
        .where(col(ModelUsage.session_id) == session_id, col(ModelUsage.agent_id).is_(None))
        .group_by(ModelUsage.model)
        .order_by(output.desc(), code_point_order(ModelUsage.model).desc())
        .limit(1)
        .scalar_subquery()
    )


def _groups(db: Session, where: list[ColumnElement[bool]]) -> list[Any]:
    ok = col(Delegation.status) == "ok"
    unpriced = col(Delegation.cost_usd).is_(None) | ~col(Delegation.priced)
    calls = (
        select_columns(
            func.max(Delegation.session_id).label("sid"),
            count_if(ok).label("ok"),
            sum_if(ok, Delegation.input_tokens).label("tin"),
            sum_if(ok, Delegation.output_tokens).label("tout"),
            sum_if(ok, Delegation.cached_tokens).label("tcached"),
            func.sum(Delegation.cost_usd).label("actual"),
            count_if(unpriced).label("unpriced"),
            func.max(case((ok, Delegation.provider))).label("provider"),
            func.max(case((ok, Delegation.model))).label("route_model"),
            count_if(ok & col(Delegation.claude_read_tokens).is_(None)).label("unmeasured"),
        )
        .where(*where)
        .group_by(Delegation.request_id)
        .subquery("calls")
    )
    k = calls.c
    cached = case((k.tcached < k.tin, k.tcached), else_=k.tin)  # delegation.input_tokens include the cached ones
    # One lookup per call in the (session_id, agent_id, model, output_tokens) index: a join against a table of
    # each session's main model is planned as a scan of that table per call on SQLite.
    main = _main_model(k.sid)
    answers = (
        select_columns(
            main.label("claude"),
            k.sid,
            k.provider,
            k.route_model,
            case(((k.unpriced > 0) | k.actual.is_(None), UNPRICED), (k.unmeasured > 0, UNMEASURED), else_=0).label(
                "excluded"
            ),
            k.tin,
            (k.tin - cached).label("uncached"),
            k.tout,
            cached.label("cached"),
            k.actual,
        )
        .where(k.ok > 0)
        # Materialized (SQLite and PostgreSQL both take the hint): merged into the grouping query, the main-model
        # lookup would run once per use, not once per call.
        .cte("answers")
        .prefix_with("MATERIALIZED")
    )
    a = answers.c
    # Calls of a session with no main-agent usage keep their session (it picks the model); the others do not.
    sid = case((a.claude.is_(None), a.sid))
    keys = (a.claude, sid, a.provider, a.route_model, a.excluded)
    statement = select_columns(
        *keys,
        func.count(),
        func.sum(a.uncached),
        func.sum(a.tout),
        func.sum(a.cached),
        func.sum(a.actual),
        func.max(a.tin),
    ).group_by(*keys)
    return list(db.connection().execute(statement).all())


def _first_models(db: Session, session_ids: set[str]) -> dict[str, str]:
    """The first recorded model of sessions with no main-agent usage."""
    if not session_ids:
        return {}
    rows = db.exec(
        select(AgentSession.session_id, AgentSession.models).where(col(AgentSession.session_id).in_(session_ids))
    )
    return {sid: models[0] for sid, models in rows if models}


def grouped_totals(db: Session, where: list[ColumnElement[bool]], default: str) -> Totals | None:
    """The savings totals of the delegate calls matching ``where``; None when some answer reaches a price tier."""
    groups = _groups(db, where)
    first = _first_models(db, {g[1] for g in groups if g[0] is None and g[1] is not None})
    resolved = [(g[0] or (first.get(g[1], default) if g[1] else default), g) for g in groups]
    largest: dict[str, int] = {}
    for model, g in resolved:
        largest[model] = max(largest.get(model, 0), int(g[10]))
    rates = {model: unit_rates(model) for model in largest}
    for model, top in largest.items():
        found = rates[model]
        if found is not None and not linear_up_to(model, found, top):
            return None
    totals: dict[tuple[str, str], list[float]] = {}
    used: Counter[str] = Counter()
    answered = unpriced_calls = unmeasured = 0
    for model, (_, _, provider, route_model, excluded, n, uncached, output, cached, actual, _) in resolved:
        answered += n
        found = rates[model]
        if excluded == UNPRICED or found is None or actual is None:
            unpriced_calls += n
            continue
        if excluded == UNMEASURED:
            unmeasured += n
            continue
        r_in, r_out, r_cached = found
        counterfactual = int(uncached) * r_in + int(output) * r_out + int(cached) * r_cached
        used[model] += n
        entry = totals.setdefault((provider, route_model), [0, 0.0, 0.0, 0.0])
        entry[0] += n
        entry[1] += float(actual)
        entry[2] += counterfactual
        entry[3] += counterfactual - float(actual)
    return answered, unpriced_calls, unmeasured, used, totals
