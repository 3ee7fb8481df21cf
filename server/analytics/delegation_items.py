"""A session's delegation attempts with the task and the full answer, as the store keeps them.

Every answer is in its thread (``thread_message``: the task as the ``user`` message, the answer as the
``assistant`` one, written together); an answer cut to fit the client is also in ``stored_output`` under the
attempt's ``output_id``. The exchange of an attempt is its thread's exchange closest in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from server.outcomes import is_model_fault
from server.store.models import Delegation, StoredOutput, ThreadMessage

__all__ = ["DelegationItem", "Outcome", "delegation_items", "outcome"]

Outcome = Literal["ok", "failed", "refused"]


def outcome(status: str) -> Outcome:
    """How an attempt's ``status`` reads: an answer, the model's failure, or a refusal that is not the model's."""
    if status == "ok":
        return "ok"
    return "failed" if is_model_fault(status) else "refused"


class DelegationItem(BaseModel):
    """One delegation attempt, with its task and answer when the store has them."""

    request_id: str
    attempt: int
    at: datetime
    route: str
    task_type: str | None
    status: str
    outcome: Outcome = Field(
        description="ok; failed (the model's or its provider's fault); refused (not the model's: a missing key, a "
        "budget, max_cost_usd, an open breaker, the client's deadline or cancellation)."
    )
    error: str | None
    latency_ms: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None = Field(description="Price table applied to the recorded tokens; None: unpriced.")
    task: str | None = Field(default=None, description="What was asked (the thread's user message).")
    answer: str | None = Field(default=None, description="The full answer, for the attempt that answered.")


Exchange = tuple[datetime, str, str | None]
"""(when, the user message, the assistant answer)."""


def _exchanges(db: Session, thread_ids: set[str]) -> dict[str, list[Exchange]]:
    messages = db.exec(
        select(ThreadMessage).where(col(ThreadMessage.thread_id).in_(thread_ids)).order_by(col(ThreadMessage.id))
    ).all()
    exchanges: dict[str, list[Exchange]] = {}
    for m in messages:
        found = exchanges.setdefault(m.thread_id, [])
        if m.role == "user":
            found.append((m.created_at, m.content, None))
        elif m.role == "assistant" and found and found[-1][2] is None:
            found[-1] = (found[-1][0], found[-1][1], m.content)
    return exchanges


def _closest(exchanges: list[Exchange], moment: datetime) -> Exchange | None:
    return min(exchanges, key=lambda e: abs((e[0] - moment).total_seconds()), default=None)


def delegation_items(db: Session, rows: Sequence[Delegation]) -> list[DelegationItem]:
    """``rows`` as items with their task and answer (the full answer only on the attempt that succeeded)."""
    output_ids = [d.output_id for d in rows if d.output_id]
    stored = dict(
        db.exec(select(StoredOutput.id, StoredOutput.content).where(col(StoredOutput.id).in_(output_ids))).all()
    )
    threads = _exchanges(db, {d.thread_id for d in rows if d.thread_id})
    items: list[DelegationItem] = []
    for d in rows:
        exchange = _closest(threads.get(d.thread_id or "", []), d.created_at)
        answer = stored.get(d.output_id or "") or (exchange[2] if exchange else None)
        items.append(
            DelegationItem(
                request_id=d.request_id,
                attempt=d.attempt,
                at=d.created_at,
                route=f"{d.provider}:{d.model}",
                task_type=d.task_type,
                status=d.status,
                outcome=outcome(d.status),
                error=d.error,
                latency_ms=d.latency_ms,
                input_tokens=d.input_tokens,
                output_tokens=d.output_tokens,
                cost_usd=d.cost_usd,
                task=exchange[1] if exchange else None,
                answer=answer if d.status == "ok" else None,
            )
        )
    return items
