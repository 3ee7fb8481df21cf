"""Learned routing's totals beside their table: what rows add to ``routing_stat``, folded in as they are written.

The recorder (:mod:`server.store.record_batches`) calls :func:`fold` in the transaction that writes the
``delegation`` rows, replayed batches included, with ``UPDATE ... SET calls = calls + n``, so two processes writing
at once both count (a read-modify-write would lose one). :mod:`server.routing.learn_store` loads the totals for the
learner, folds feedback in and rebuilds them from the rows, with :func:`apply` and :func:`totals_from_rows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel, col

from server.classify import classify
from server.outcomes import counts_for_model
from server.store.models import ConsensusRun, Delegation, RoutingStat, SolveRun
from server.store.routing_evidence import COUNTERS, Evidence

__all__ = ["Key", "Totals", "apply", "fold", "totals_from_rows"]


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
    apply(conn, totals_from_rows(rows))
    runs = [row for row in rows if not isinstance(row, Delegation)]
    people: dict[str, list[SQLModel]] = {}
    for row in rows:
        if isinstance(row, Delegation) and row.user:
            people.setdefault(row.user, []).append(row)
    for user, theirs in sorted(people.items()):
        apply(conn, totals_from_rows([*runs, *theirs]), user)


def apply(conn: Connection, increments: dict[Key, Totals], user: str = "") -> None:
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
