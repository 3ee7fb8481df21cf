"""Conversations that ``delegate`` continues across calls, models and server restarts (kept in the store)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, select

from server.providers.base import ChatMessage
from server.store.models import Thread, ThreadMessage, utcnow

__all__ = ["load_thread", "new_thread_id", "thread_rows"]


def new_thread_id() -> str:
    return uuid.uuid4().hex


def load_thread(engine: Engine, thread_id: str) -> list[ChatMessage] | None:
    """The thread's messages in order, or None when there is no such thread."""
    with Session(engine) as db:
        if db.get(Thread, thread_id) is None:
            return None
        rows = db.exec(
            select(ThreadMessage).where(ThreadMessage.thread_id == thread_id).order_by(col(ThreadMessage.id))
        ).all()
        return [ChatMessage(role=row.role, content=row.content) for row in rows]


def thread_rows(thread_id: str, *, session_id: str | None, user: str, answer: str, model: str) -> list[SQLModel]:
    """The two messages one exchange adds to a thread."""
    now = utcnow()
    return [
        ThreadMessage(thread_id=thread_id, session_id=session_id, role="user", content=user, created_at=now),
        ThreadMessage(
            thread_id=thread_id, session_id=session_id, role="assistant", content=answer, model=model, created_at=now
        ),
    ]
