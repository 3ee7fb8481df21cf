"""The time window and filters every analytics query takes, and how they narrow a query."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from server.store.models import AgentSession, utcnow

__all__ = ["DEFAULT_DAYS", "Window"]

DEFAULT_DAYS = 7

_S = TypeVar("_S", Select[Any], SelectOfScalar[Any])


class Window(BaseModel):
    """A half-open time window ``[since, until)`` with optional project and session filters.

    ``None`` bounds are open: ``Window()`` is all time. Each query filters rows by its own table's time
    column (a session by ``started_at``, a tool call by ``started_at``, a delegation by ``created_at``).
    """

    model_config = ConfigDict(frozen=True)

    since: datetime | None = None
    until: datetime | None = None
    project: str | None = Field(default=None, description="Only sessions whose ``project`` equals this.")
    session_id: str | None = Field(default=None, description="Only this Claude Code session.")
    agent: str | None = Field(default=None, description="Only sessions of this agent (claude-code, codex, gemini).")
    user: str | None = Field(default=None, description="Only sessions of this person (a team on one store).")

    @classmethod
    def last_days(
        cls, days: float = DEFAULT_DAYS, *, project: str | None = None, session_id: str | None = None
    ) -> Window:
        """The last ``days`` days up to now."""
        now = utcnow()
        return cls(since=now - timedelta(days=days), until=None, project=project, session_id=session_id)

    def describe(self) -> str:
        """A short human description, e.g. ``2026-11-14 .. now, project=api``."""
        start = self.since.strftime("%Y-%m-%d %H:%M") if self.since else "start"
        end = self.until.strftime("%Y-%m-%d %H:%M") if self.until else "now"
        parts = [f"{start} .. {end}"]
        if self.project:
            parts.append(f"project={self.project}")
        if self.session_id:
            parts.append(f"session={self.session_id}")
        if self.agent:
            parts.append(f"agent={self.agent}")
        if self.user:
            parts.append(f"user={self.user}")
        return ", ".join(parts)

    def time_clauses(self, column: Any) -> list[ColumnElement[bool]]:
        """Conditions keeping ``column`` inside the window (rows with a NULL time fall out of bounded windows)."""
        clauses: list[ColumnElement[bool]] = []
        if self.since is not None:
            clauses.append(col(column) >= self.since)
        if self.until is not None:
            clauses.append(col(column) < self.until)
        return clauses

    def session_clauses(self, session_column: Any) -> list[ColumnElement[bool]]:
        """Conditions keeping rows whose ``session_column`` belongs to the filtered project/session."""
        clauses: list[ColumnElement[bool]] = []
        if self.session_id is not None:
            clauses.append(col(session_column) == self.session_id)
        if self.project is not None:
            in_project = select(AgentSession.session_id).where(AgentSession.project == self.project)
            clauses.append(col(session_column).in_(in_project))
        if self.agent is not None:
            # Delegations, tool calls and usage count with the session they came from, whichever agent ran it.
            of_agent = select(AgentSession.session_id).where(AgentSession.agent == self.agent)
            clauses.append(col(session_column).in_(of_agent))
        if self.user is not None:
            of_user = select(AgentSession.session_id).where(AgentSession.user == self.user)
            clauses.append(col(session_column).in_(of_user))
        return clauses

    def apply(self, statement: _S, time_column: Any, session_column: Any) -> _S:
        """``statement`` narrowed to this window on ``time_column`` and to the filters on ``session_column``."""
        clauses = [*self.time_clauses(time_column), *self.session_clauses(session_column)]
        return statement.where(*clauses) if clauses else statement
