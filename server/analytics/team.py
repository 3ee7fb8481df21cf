"""A team on one store: spend, sessions, delegations and models per person, and per person and project."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from server.analytics._sql import count_if, select_columns
from server.analytics.savings import savings
from server.analytics.window import Window
from server.store.models import AgentSession, Delegation, ModelUsage, Prompt

__all__ = ["WITHHELD_PREFIX", "PersonProject", "PersonTotals", "TeamReport", "count_users", "team_report"]

WITHHELD_PREFIX = "[prompt not shared"
"""How a prompt stored under ``[team] share_prompts = false`` begins (``server.team.withhold_prompt``)."""


class PersonTotals(BaseModel):
    """One person's sessions started in the window and the delegations made from them."""

    user: str
    hosts: list[str]
    sessions: int
    cost_usd: float = Field(description="Sessions' cost (Claude Code's own, estimated for other agents).")
    sessions_without_cost: int
    delegations: int
    delegation_cost_usd: float | None = Field(description="Priced delegations' cost; None when none is priced.")
    saved_usd: float = Field(description="What their delegate calls saved against Claude (analytics.savings).")
    models: list[str]
    prompts_withheld: bool = Field(description="Their prompts are stored as length and hash (share_prompts = false).")


class PersonProject(BaseModel):
    """One person's sessions in one project."""

    user: str
    project: str | None
    sessions: int
    cost_usd: float
    delegations: int


class TeamReport(BaseModel):
    """Everyone who wrote to this store, in the window."""

    people: list[PersonTotals]
    by_project: list[PersonProject]


def count_users(db: Session) -> int:
    """How many people have sessions in the store (a Team page is shown from two)."""
    return int(db.exec(select(func.count(func.distinct(AgentSession.user)))).one())


def _sessions_in(window: Window) -> list[ColumnElement[bool]]:
    return [*window.time_clauses(AgentSession.started_at), *window.session_clauses(AgentSession.session_id)]


def team_report(db: Session, window: Window) -> TeamReport:
    """Per person, and per person and project, over the sessions started in ``window``."""
    who = func.coalesce(AgentSession.user, "unknown")
    rows = (
        db.connection()
        .execute(
            select_columns(
                who,
                AgentSession.project,
                func.count(),
                func.sum(AgentSession.cost_usd),
                count_if(col(AgentSession.cost_usd).is_(None)),
            )
            .where(*_sessions_in(window))
            .group_by(who, col(AgentSession.project))
        )
        .all()
    )
    delegated = (
        db.connection()
        .execute(
            select_columns(who, AgentSession.project, func.count(), func.sum(Delegation.cost_usd))
            .join_from(Delegation, AgentSession, col(Delegation.session_id) == col(AgentSession.session_id))
            .where(*_sessions_in(window))
            .group_by(who, col(AgentSession.project))
        )
        .all()
    )
    calls = {(r[0], r[1]): (int(r[2]), r[3]) for r in delegated}
    by_project = [
        PersonProject(
            user=r[0],
            project=r[1],
            sessions=int(r[2]),
            cost_usd=float(r[3] or 0),
            delegations=calls.get((r[0], r[1]), (0, None))[0],
        )
        for r in rows
    ]
    people: list[PersonTotals] = []
    for user in sorted({p.user for p in by_project}):
        mine = [r for r in rows if r[0] == user]
        spent = [calls[key][1] for key in calls if key[0] == user and calls[key][1] is not None]
        people.append(
            PersonTotals(
                user=user,
                hosts=_hosts(db, user),
                sessions=sum(int(r[2]) for r in mine),
                cost_usd=sum(float(r[3] or 0) for r in mine),
                sessions_without_cost=sum(int(r[4]) for r in mine),
                delegations=sum(n for (u, _p), (n, _c) in calls.items() if u == user),
                delegation_cost_usd=float(sum(spent)) if spent else None,
                saved_usd=savings(db, window.model_copy(update={"user": user})).saved_usd,
                models=_models(db, user, window),
                prompts_withheld=_withheld(db, user),
            )
        )
    by_project.sort(key=lambda p: (p.user, -p.sessions, p.project or ""))
    return TeamReport(people=people, by_project=by_project)


def _hosts(db: Session, user: str) -> list[str]:
    query = select(AgentSession.host).where(AgentSession.user == user).distinct()
    return sorted(h for h in db.exec(query) if h)


def _models(db: Session, user: str, window: Window) -> list[str]:
    theirs = select(AgentSession.session_id).where(AgentSession.user == user, *_sessions_in(window))
    query = (
        select(ModelUsage.model, func.sum(ModelUsage.output_tokens))
        .where(col(ModelUsage.session_id).in_(theirs))
        .group_by(ModelUsage.model)
    )
    return [m for m, _n in sorted(db.exec(query).all(), key=lambda r: -(r[1] or 0))]


def _withheld(db: Session, user: str) -> bool:
    theirs = select(AgentSession.session_id).where(AgentSession.user == user)
    query = select(Prompt.id).where(col(Prompt.session_id).in_(theirs), col(Prompt.text).startswith(WITHHELD_PREFIX))
    return db.exec(query.limit(1)).first() is not None
