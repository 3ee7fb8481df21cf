"""Column types of the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Interval
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.types import TypeDecorator, TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.sql.type_api import _BindProcessorType  # pyright: ignore[reportPrivateUsage]

__all__ = ["UtcDateTime"]


_SQLITE_DEFAULT = SQLITE_DATETIME._storage_format  # pyright: ignore[reportPrivateUsage]
"""SQLite's ``DATETIME`` text, as SQLAlchemy writes it unless told another format."""


def _as_utc(value: datetime) -> datetime:
    """The same moment in UTC; a naive datetime is refused (its zone is unknown)."""
    if value.tzinfo is UTC:
        return value
    if value.utcoffset() is None:
        raise ValueError(f"a naive datetime ({value.isoformat()}) has no zone: give a timezone-aware one")
    return value.astimezone(UTC)


def _sqlite_text(value: datetime | None) -> Any:
    if value is None:
        return None
    if value.tzinfo is UTC:  # nearly always (transcript times end in Z): the text up to its offset, 0.3 us less
        return value.isoformat(" ", "microseconds")[:26]
    return _as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


class UtcDateTime(TypeDecorator[datetime]):
    """A moment: written as UTC, always read back timezone-aware UTC, on SQLite and PostgreSQL alike.

    The DDL is ``DateTime(timezone=True)``: ``timestamp with time zone`` on PostgreSQL, ``DATETIME`` on SQLite
    (which keeps no offset, so what comes back without one is UTC). A naive value is refused: its zone is unknown.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def coerce_compared_value(self, op: OperatorType | None, value: Any) -> TypeEngine[Any]:
        # ``created_at - timedelta(...)`` compares against an interval, not a moment.
        return Interval() if isinstance(value, timedelta) else self

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _as_utc(value)

    def bind_processor(self, dialect: Dialect) -> _BindProcessorType[datetime] | None:
        """On SQLite, :meth:`process_bind_param` and SQLite's ``DATETIME`` text in one step.

        The two processors SQLAlchemy chains (this type's, then ``DATETIME``'s ``%``-formatting of a dict of the
        fields) cost ~2 us a value; an import binds one per usage row (244,367 at 10,000 sessions). ``isoformat``
        gives the same text (a test holds the two equal for any moment).
        """
        if dialect.name != "sqlite" or getattr(self.impl_instance, "_storage_format", None) != _SQLITE_DEFAULT:
            return super().bind_processor(dialect)
        return _sqlite_text

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)
