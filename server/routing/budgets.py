"""Daily and per-session USD caps that hold under concurrency, across processes.

Before a call, its worst case (estimated input plus its whole output allowance at the model's price) is reserved
in the store (``budget_reservation``) under a lock every process takes: a file lock beside a SQLite file, an
advisory transaction lock on PostgreSQL. Spend is what ``delegation`` rows record plus the reservations still
open, so two servers (or a server and a consensus run) never both spend the same room. A reservation is settled
by the recorder in the transaction that writes the call's rows (:mod:`server.store.recorder`); one whose process
died is ignored after ``expires_at``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlmodel import Session, col, func, select

from server.config import BudgetConfig
from server.file_lock import held
from server.store.models import BudgetReservation, Delegation, utcnow

__all__ = ["Spend", "budget_refusal", "current_spend", "reserve"]

R = TypeVar("R")

_LOCK_WAIT_S = 10.0
_POLL_S = 0.005
_PG_LOCK_KEY = 0x5B0A_4D61  # one advisory lock id for every switchboard process on the database


@dataclass(frozen=True)
class Spend:
    """Spend so far, today (UTC) and in this session: priced delegations plus open reservations."""

    today_usd: float
    session_usd: float


def _start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _spend(db: Session, session_id: str | None, now: datetime) -> Spend:
    since = _start_of_day(now)
    live = col(BudgetReservation.expires_at) > now
    recorded = db.exec(select(func.sum(Delegation.cost_usd)).where(Delegation.created_at >= since)).one() or 0.0
    reserved = db.exec(
        select(func.sum(BudgetReservation.amount_usd)).where(BudgetReservation.created_at >= since, live)
    ).one()
    session_usd = 0.0
    if session_id is not None:
        in_session = select(func.sum(Delegation.cost_usd)).where(col(Delegation.session_id) == session_id)
        session_reserved = select(func.sum(BudgetReservation.amount_usd)).where(
            col(BudgetReservation.session_id) == session_id, live
        )
        session_usd = (db.exec(in_session).one() or 0.0) + (db.exec(session_reserved).one() or 0.0)
    return Spend(today_usd=recorded + (reserved or 0.0), session_usd=session_usd)


def current_spend(engine: Engine, session_id: str | None, now: datetime | None = None) -> Spend:
    """Recorded cost since midnight UTC and within ``session_id``, each plus the reservations still open."""
    with Session(engine) as db:
        return _spend(db, session_id, now or utcnow())


def _file_lock(path: Path) -> AbstractContextManager[None]:
    # Holders keep it for one short transaction.
    return held(
        path, _LOCK_WAIT_S, _POLL_S, lambda: TimeoutError(f"another process held {path} for over {_LOCK_WAIT_S:g} s")
    )


@contextmanager
def _budget_lock(engine: Engine) -> Generator[None]:
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        with _file_lock(Path(database).with_name(f"{Path(database).name}.budget-lock")):
            yield
    else:
        yield  # PostgreSQL: the advisory lock is taken inside the transaction (see reserve)


def reserve(
    engine: Engine,
    session_id: str | None,
    decide: Callable[[Spend], tuple[float | None, R]],
    *,
    model: str,
    ttl_s: float,
) -> tuple[str | None, R]:
    """Under the cross-process budget lock, read the spend, let ``decide`` say how much to reserve, and keep it.

    Args:
        decide: Given the spend (recorded plus reserved), returns the USD to reserve (None: nothing) and a
            result handed back to the caller (e.g. which candidates fit).
        model: Named on the reservation, for people reading the table.
        ttl_s: After this the reservation no longer counts (its process died mid-call).

    Returns:
        The reservation's id (None when nothing was reserved), and ``decide``'s result.

    Raises:
        TimeoutError, sqlalchemy.exc.SQLAlchemyError: the budget could not be checked (store busy or down).
    """
    with _budget_lock(engine), Session(engine) as db:
        if engine.dialect.name == "postgresql":
            db.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=_PG_LOCK_KEY))  # type: ignore[call-overload]
        now = utcnow()
        amount, result = decide(_spend(db, session_id, now))
        if amount is None:
            return None, result
        reservation = BudgetReservation(
            id=uuid.uuid4().hex,
            session_id=session_id,
            model=model,
            amount_usd=amount,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        )
        db.add(reservation)
        db.commit()
        return reservation.id, result


def budget_refusal(
    budgets: BudgetConfig,
    spend: Spend,
    estimate_usd: float,
    *,
    config_file: str,
    max_cost_usd: float | None = None,
) -> str | None:
    """Why a call estimated at ``estimate_usd`` may not run, or None when it fits every cap."""
    if max_cost_usd is not None and estimate_usd > max_cost_usd:
        return f"estimated ${estimate_usd:.4f} is over this call's max_cost_usd ${max_cost_usd:.4f}"
    if budgets.daily_usd is not None and spend.today_usd + estimate_usd > budgets.daily_usd:
        return (
            f"would cross the daily cap: ${spend.today_usd:.4f} spent or reserved today + estimated "
            f"${estimate_usd:.4f} > ${budgets.daily_usd:.2f} (raise [budgets] daily_usd in {config_file}; "
            "it resets at 00:00 UTC)"
        )
    if budgets.session_usd is not None and spend.session_usd + estimate_usd > budgets.session_usd:
        return (
            f"would cross the session cap: ${spend.session_usd:.4f} spent or reserved in this session + estimated "
            f"${estimate_usd:.4f} > ${budgets.session_usd:.2f} (raise [budgets] session_usd in {config_file})"
        )
    return None
