"""The learning router's totals in the store: loaded whole, feedback folded in, rebuilt from rows.

``routing_stat`` holds one row per (task type, model). The recorder adds to it in the transaction that writes the
``delegation`` rows (:func:`server.store.routing_totals.fold`, beside the table). ``rebuild`` recomputes every row
from ``delegation``, ``feedback`` and ``consensus_run``; a test pins the folded totals to it.

The totals hold every project's feedback; a session's learner loads them with :func:`load_for`, which takes back
the feedback given through MCP in other projects (``feedback.project_dir``), so it moves routing only where it
was given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Engine, case, delete, func
from sqlmodel import Session, SQLModel, col, select

from server.routing.learn import Learner
from server.store.models import AgentSession, ConsensusRun, Delegation, Feedback, RoutingStat, SolveRun
from server.store.routing_evidence import Evidence
from server.store.routing_totals import Key, Totals, apply, totals_from_rows

__all__ = ["fold_feedback", "learned_from", "load", "load_for", "rebuild", "refresh"]


def fold_feedback(db: Session, before: Feedback | None, after: Feedback) -> None:
    """Count ``after`` as a quality signal, taking back ``before`` (the same request's earlier feedback)."""
    totals = Totals()
    if before is not None:
        totals.signal(-float(before.good), None, None, count=-1)
    totals.signal(float(after.good), after.updated_at, after.session_id)
    apply(db.connection(), {(after.task_type, after.model): totals})
    user = _user_of(db, after.session_id)
    if user:
        apply(db.connection(), {(after.task_type, after.model): totals}, user)


def _user_of(db: Session, session_id: str | None) -> str | None:
    """Whose session the judged call came from (``rebuild`` reads it the same way)."""
    found = db.get(AgentSession, session_id) if session_id else None
    return found.user if found is not None else None


def load(engine: Engine, user: str = "") -> dict[Key, Evidence]:
    """Every (task type, model)'s totals, the whole store's or ``user``'s: one select of a table with a row per
    pair and person (dozens, not millions)."""
    with Session(engine) as db:
        rows = db.exec(select(RoutingStat).where(col(RoutingStat.user) == user)).all()
        return {(r.task_type, r.model): Evidence.of(r) for r in rows}


def load_for(engine: Engine, project_dir: str | None, user: str = "") -> dict[Key, Evidence]:
    """:func:`load` as a session in ``project_dir`` learns from it: without the feedback other projects gave.

    Feedback without a project (the dashboard's, or from before projects were recorded) counts everywhere. One
    grouped select over ``feedback`` (a row per judged request) beside the ``routing_stat`` one.
    """
    totals = load(engine, user)
    elsewhere = col(Feedback.project_dir).is_not(None)
    if project_dir is not None:
        elsewhere = elsewhere & (col(Feedback.project_dir) != project_dir)
    statement = (
        select(
            Feedback.task_type,
            Feedback.model,
            func.count(),
            func.sum(case((col(Feedback.good), 1.0), else_=0.0)),
        )
        .where(elsewhere)
        .group_by(col(Feedback.task_type), col(Feedback.model))
    )
    with Session(engine) as db:
        others = db.exec(statement).all()
    for task_type, model, count, good in others:
        # Undoes what fold_feedback added for these rows (one signal each, quality 1 or 0).
        e = totals.get((task_type, model))
        if e is not None:
            totals[(task_type, model)] = replace(
                e, quality_sum=max(0.0, e.quality_sum - float(good or 0)), quality_n=max(0, e.quality_n - count)
            )
    return totals


def learned_from(rows: Sequence[SQLModel]) -> dict[Key, Evidence]:
    """What ``rows`` add, as evidence to hand :meth:`Learner.add` once they are written."""
    return {key: t.evidence for key, t in totals_from_rows(rows).items()}


def refresh(learner: Learner, engine: Engine, project_dir: str | None = None) -> None:
    """Reload ``learner``'s in-memory totals from the store as a session in ``project_dir`` sees them
    (:func:`load_for`; None: no project, so only the feedback that counts everywhere): the whole store's, or with
    ``[routing.learn] scope = "user"`` this person's own. Blocking: call from a worker thread."""
    from server.team import current_identity

    user = current_identity().user if learner.config.scope == "user" else ""
    learner.replace(load_for(engine, project_dir, user))


def rebuild(engine: Engine) -> int:
    """Recompute ``routing_stat`` from the rows (delegations, consensus and solve runs, feedback); returns the pairs
    written.

    Reads every delegation row: for repair after a bug or a manual edit, not for the decision path.
    """
    with Session(engine) as db:
        questions = {run.id: run.question for run in db.exec(select(ConsensusRun)).all()}
        tasks = {run.id: run.task for run in db.exec(select(SolveRun)).all()}
        delegations = db.exec(select(Delegation)).all()
        owners = {s: u for s, u in db.exec(select(AgentSession.session_id, AgentSession.user)) if u}
        people: dict[str, dict[Key, Totals]] = {"": totals_from_rows(delegations, questions, tasks)}
        for user in sorted({row.user for row in delegations if row.user}):
            theirs = [row for row in delegations if row.user == user]
            people[user] = totals_from_rows(theirs, questions, tasks)
        for fb in db.exec(select(Feedback)).all():
            for user in ("", owners.get(fb.session_id or "")):
                if user is not None:
                    totals = people.setdefault(user, {})
                    totals.setdefault((fb.task_type, fb.model), Totals()).signal(
                        float(fb.good), fb.updated_at, fb.session_id
                    )
        db.connection().execute(delete(RoutingStat))
        for user, totals in people.items():
            apply(db.connection(), totals, user)
        db.commit()
    return len(people[""])
