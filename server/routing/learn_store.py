"""The learning router's totals in the store: folded in as rows are written, loaded whole, rebuilt from rows.

``routing_stat`` holds one row per (task type, model). The recorder (:mod:`server.store.record_batches`) adds to
it in the transaction that writes the ``delegation`` rows (``fold``), replayed batches included, with
``UPDATE ... SET calls = calls + n``, so two processes writing at once both count (a read-modify-write would lose
one). ``rebuild`` recomputes every row from ``delegation``, ``feedback``
and ``consensus_run``; a test pins the folded totals to it.

The totals hold every project's feedback; a session's learner loads them with :func:`load_for`, which takes back
the feedback given through MCP in other projects (``feedback.project_dir``), so it moves routing only where it
was given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Connection, Engine, case, delete, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col, select

from server.classify import classify
from server.outcomes import counts_for_model
from server.routing.learn import Learner
from server.store.models import AgentSession, ConsensusRun, Delegation, Feedback, RoutingStat, SolveRun
from server.store.routing_evidence import COUNTERS, Evidence

__all__ = [
    "Totals",
    "fold",
    "fold_feedback",
    "learned_from",
    "load",
    "load_for",
    "rebuild",
    "refresh",
    "totals_from_rows",
]


@dataclass
class Totals:
    """What rows add to one (task type, model) as they are read: the evidence so far, and the session of its latest
    observation (``routing_stat.session_id``)."""

    evidence: Evidence = field(default_factory=Evidence)
    session_id: str | None = None

    def attempt(self, row: Delegation) -> None:
        ok = row.status == "ok"
        latency = row.latency_ms if ok else None
        cost = row.cost_usd if ok else None
        more = Evidence(
            calls=1,
            successes=int(ok),
            latency_ms_sum=latency or 0.0,
            latency_n=int(latency is not None),
            cost_usd_sum=cost or 0.0,
            cost_n=int(cost is not None),
            last_at=row.created_at,
        )
        self.add(more, row.session_id)

    def signal(self, quality: float, at: datetime | None, session_id: str | None, count: int = 1) -> None:
        self.add(Evidence(quality_sum=quality, quality_n=count, last_at=at), session_id)

    def add(self, more: Evidence, session_id: str | None) -> None:
        latest = self.evidence.last_at
        if more.last_at is not None and (latest is None or more.last_at >= latest):
            self.session_id = session_id
        self.evidence = self.evidence + more


Key = tuple[str, str]


def _model_id(row: Delegation) -> str:
    return f"{row.provider}:{row.model}"


def _delegate_attempt(row: Delegation) -> bool:
    """A delegate attempt the router learns success, latency and cost from (consensus and solve calls run in
    parallel; solve's are learned from through their scores)."""
    return (
        row.role is None
        and row.task_type is not None
        and not row.cache_hit
        and counts_for_model(row.status)  # a missing key, a refusal or the client's deadline is not the model's
    )


def totals_from_rows(
    rows: Iterable[SQLModel], questions: dict[str, str] | None = None, tasks: dict[str, str] | None = None
) -> dict[Key, Totals]:
    """What ``rows`` add: delegate attempts' outcomes, and the quality of consensus members and of solve answers
    (their check or judge score) under the question's or task's type.

    ``questions`` maps consensus run ids to their question, ``tasks`` solve run ids to their task (runs in
    ``rows`` are looked up there too).
    """
    rows = list(rows)
    asked = dict(questions or {})
    asked.update({run.id: run.question for run in rows if isinstance(run, ConsensusRun)})
    solved = dict(tasks or {})
    solved.update({run.id: run.task for run in rows if isinstance(run, SolveRun)})
    out: dict[Key, Totals] = {}
    for row in rows:
        if not isinstance(row, Delegation):
            continue
        if _delegate_attempt(row):
            out.setdefault((row.task_type or "", _model_id(row)), Totals()).attempt(row)
        elif row.quality is not None and row.consensus_run_id in asked:
            key = (classify(asked[row.consensus_run_id]), _model_id(row))
            out.setdefault(key, Totals()).signal(row.quality, row.created_at, row.session_id)
        elif row.quality is not None and row.solve_node_id is not None and row.request_id in solved:
            key = (classify(solved[row.request_id]), _model_id(row))
            out.setdefault(key, Totals()).signal(row.quality, row.created_at, row.session_id)
    return out


def fold(conn: Connection, rows: Sequence[SQLModel]) -> None:
    """Add what ``rows`` say to ``routing_stat``, in ``conn``'s transaction (the caller commits): to the whole
    store's totals and to the totals of the person each delegation names."""
    _apply(conn, totals_from_rows(rows))
    runs = [row for row in rows if not isinstance(row, Delegation)]
    people: dict[str, list[SQLModel]] = {}
    for row in rows:
        if isinstance(row, Delegation) and row.user:
            people.setdefault(row.user, []).append(row)
    for user, theirs in sorted(people.items()):
        _apply(conn, totals_from_rows([*runs, *theirs]), user)


def fold_feedback(db: Session, before: Feedback | None, after: Feedback) -> None:
    """Count ``after`` as a quality signal, taking back ``before`` (the same request's earlier feedback)."""
    totals = Totals()
    if before is not None:
        totals.signal(-float(before.good), None, None, count=-1)
    totals.signal(float(after.good), after.updated_at, after.session_id)
    _apply(db.connection(), {(after.task_type, after.model): totals})
    user = _user_of(db, after.session_id)
    if user:
        _apply(db.connection(), {(after.task_type, after.model): totals}, user)


def _user_of(db: Session, session_id: str | None) -> str | None:
    """Whose session the judged call came from (``rebuild`` reads it the same way)."""
    found = db.get(AgentSession, session_id) if session_id else None
    return found.user if found is not None else None


def _apply(conn: Connection, increments: dict[Key, Totals], user: str = "") -> None:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    table = RoutingStat.__table__  # pyright: ignore[reportAttributeAccessIssue]
    for (task_type, model), t in sorted(increments.items()):
        conn.execute(insert(table).values(**_zero(task_type, model), user=user).on_conflict_do_nothing())  # pyright: ignore[reportUnknownArgumentType]
        values = {name: table.c[name] + getattr(t.evidence, name) for name in COUNTERS}
        statement = update(RoutingStat).where(
            col(RoutingStat.task_type) == task_type, col(RoutingStat.model) == model, col(RoutingStat.user) == user
        )
        conn.execute(statement.values(**values))
        last_at = t.evidence.last_at
        if last_at is not None:
            # Only ever moves forward, whoever commits last.
            newer = (col(RoutingStat.last_at).is_(None)) | (col(RoutingStat.last_at) < last_at)
            conn.execute(
                statement.where(newer).values(last_at=last_at, session_id=t.session_id)  # pyright: ignore[reportUnknownMemberType]
            )


def _zero(task_type: str, model: str) -> dict[str, object]:
    return {"task_type": task_type, "model": model, **{name: getattr(Evidence(), name) for name in COUNTERS}}


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
            _apply(db.connection(), totals, user)
        db.commit()
    return len(people[""])
