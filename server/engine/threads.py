"""Conversations that ``delegate`` continues across calls, models and server restarts (kept in the store)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, select

from server.engine.scope import Scope
from server.providers.base import ChatMessage
from server.store.models import Thread, ThreadMessage, utcnow

__all__ = ["load_thread", "new_thread_id", "thread_rows"]


def new_thread_id() -> str:
    return uuid.uuid4().hex


def load_thread(engine: Engine, thread_id: str, scope: Scope) -> list[ChatMessage] | None:
    """The thread's messages in order, or None when there is no such thread that ``scope`` may continue.

    A thread is its first message's: the session and project that started it (a continuation was let in by the
    same rule, so every later message is theirs too).
    """
    with Session(engine) as db:
        if db.get(Thread, thread_id) is None:
            return None
        rows = db.exec(
            select(ThreadMessage).where(ThreadMessage.thread_id == thread_id).order_by(col(ThreadMessage.id))
        ).all()
        if rows and not scope.owns(rows[0].session_id, rows[0].project_dir):
            return None
        return [ChatMessage(role=row.role, content=row.content) for row in rows]


def thread_rows(thread_id: str, *, scope: Scope, user: str, answer: str, model: str) -> list[SQLModel]:
    """The two messages one exchange adds to a thread."""
    now = utcnow()

    def message(role: str, content: str, model: str | None = None) -> ThreadMessage:
        return ThreadMessage(
            thread_id=thread_id,
            session_id=scope.session_id,
            project_dir=scope.project_dir,
            role=role,
            content=content,
            model=model,
            created_at=now,
        )

    return [message("user", user), message("assistant", answer, model)]
