"""Every time column is a UtcDateTime: what is stored reads back timezone-aware UTC, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, Engine, func
from sqlalchemy.exc import StatementError
from sqlmodel import Session, SQLModel, col, select

from server.store.models import Delegation, RoutingStat
from server.store.types import UtcDateTime

_PARIS_SUMMER = timezone(timedelta(hours=2))


def test_every_time_column_of_the_models_is_a_utc_datetime() -> None:
    columns = [column for table in SQLModel.metadata.tables.values() for column in table.columns]
    times = [c for c in columns if isinstance(getattr(c.type, "impl", c.type), DateTime)]
    assert len(times) >= 30
    assert [f"{c.table.name}.{c.name}" for c in times if type(c.type) is not UtcDateTime] == []


def test_a_stored_time_reads_back_aware_utc_the_same_moment(engine: Engine) -> None:
    written = datetime(2026, 7, 1, 14, 30, 5, 123456, tzinfo=_PARIS_SUMMER)
    with Session(engine) as db:
        db.add(Delegation(request_id="r", provider="p", model="m", status="ok", created_at=written))
        db.add(RoutingStat(task_type="code", model="p:m", last_at=None))
        db.commit()
    with Session(engine) as db:
        row = db.exec(select(Delegation)).one()
        latest = db.exec(select(func.max(col(Delegation.created_at)))).one()
        empty = db.exec(select(RoutingStat.last_at)).one()
    for moment in (row.created_at, latest):
        assert moment.tzinfo is UTC
        assert moment == written
        assert moment.hour == 12
    assert empty is None


def test_a_naive_time_is_refused_rather_than_guessed(engine: Engine) -> None:
    with Session(engine) as db:
        db.add(Delegation(request_id="r", provider="p", model="m", status="ok", created_at=datetime(2026, 7, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            db.commit()
