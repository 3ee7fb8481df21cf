"""Every time column is a UtcDateTime: what is stored reads back timezone-aware UTC, on SQLite and PostgreSQL."""

from __future__ import annotations

import fnmatch
import json
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime, Engine, func, text
from sqlalchemy.exc import StatementError
from sqlmodel import Session, SQLModel, col, select

from server.settings import Settings
from server.store.importer import import_transcripts
from server.store.ingest import ingest_spool
from server.store.models import Delegation, RoutingStat
from server.store.spool import Spool
from server.store.types import UtcDateTime
from tests.fakes.projects_folder import write_projects

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


def test_an_import_and_an_ingest_store_every_time_in_sqlalchemy_s_own_text(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """On SQLite a time is text: the fast inserts (usage rows, raw events) write it as the ORM does, so it sorts and
    compares with every other row's (sqlite3's own adapter wrote '2026-12-06 04:14:40+00:00')."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL stores a timestamp with time zone, not a text")
    root = tmp_path / "projects"
    write_projects(root, sessions=3, turns=6)
    import_transcripts(engine, root)
    capture = Path(__file__).parents[3] / "hooks" / "capture.sh"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(settings.home), "SWITCHBOARD_HOME": str(settings.home)}
    stop = json.dumps({"hook_event_name": "Stop", "session_id": "s1", "transcript_path": "", "cwd": "/w"})
    subprocess.run(["/bin/sh", str(capture)], input=stop.encode(), env=env, check=True, timeout=30)
    assert ingest_spool(engine, Spool(settings.spool_dir)).ingested == 1
    stamp = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]"
    checked: dict[str, int] = {}
    odd: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.tables.values():
            for column in table.columns:
                if type(column.type) is not UtcDateTime:
                    continue
                name = f"{table.name}.{column.name}"
                query = f'SELECT "{column.name}" FROM "{table.name}" WHERE "{column.name}" IS NOT NULL'
                stored = [value for (value,) in conn.execute(text(query))]
                checked[name] = len(stored)
                odd[name] = [value for value in stored if not fnmatch.fnmatchcase(value, stamp)]
    assert {name: values for name, values in odd.items() if values} == {}
    assert checked["model_usage.created_at"] > 0
    assert checked["raw_event.received_at"] == checked["raw_event.ingested_at"] == 1
    assert checked["session.started_at"] > 0


def _chained_sqlite_text(value: datetime | None) -> object:
    """What SQLAlchemy's own chain writes on SQLite: UtcDateTime.process_bind_param, then DATETIME's processor."""
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    impl = UtcDateTime().dialect_impl(dialect)
    assert isinstance(impl, UtcDateTime)
    process = impl.impl_instance.bind_processor(dialect)
    assert process is not None
    return process(UtcDateTime().process_bind_param(value, dialect))


@settings(max_examples=500, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2, 1, 2), max_value=datetime(9998, 12, 30)),
    offset_minutes=st.integers(-23 * 60 - 59, 23 * 60 + 59),
    seconds=st.integers(-59, 59),
)
def test_the_sqlite_text_of_any_moment_is_the_text_sqlalchemy_s_processors_write(
    moment: datetime, offset_minutes: int, seconds: int
) -> None:
    from sqlalchemy.dialects import sqlite

    zone = timezone(timedelta(minutes=offset_minutes, seconds=seconds))
    aware = moment.replace(tzinfo=zone)
    process = UtcDateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
    assert process is not None
    assert process(aware) == _chained_sqlite_text(aware)
    assert process(aware.astimezone(UTC)) == _chained_sqlite_text(aware)
    assert process(None) is None
    with pytest.raises(ValueError, match="no zone"):
        process(moment)
