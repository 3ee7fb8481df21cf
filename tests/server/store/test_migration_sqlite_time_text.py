"""Migration 0016: on SQLite, times sqlite3's own adapter wrote ('...+00:00') take the text SQLAlchemy writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from server.store.database import _alembic_config, make_engine, migrate
from server.store.models import ModelUsage, RawEvent

# what was stored before 0016 -> what it must read after
_USAGE_TIMES = {
    "m1": ("2026-12-06 04:14:40+00:00", "2026-12-06 04:14:40.000000"),
    "m2": ("2026-12-06 04:14:40.123456+00:00", "2026-12-06 04:14:40.123456"),
    "m3": ("2026-12-06 04:14:40.500000", "2026-12-06 04:14:40.500000"),  # already SQLAlchemy's text
    "m4": (None, None),
}


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if engine.dialect.name != "sqlite":
        engine.dispose()
        pytest.skip("PostgreSQL stores timestamps, not text: 0016 changes nothing there")
    yield engine
    engine.dispose()


def test_upgrading_rewrites_the_adapter_s_text_and_keeps_the_moment(bare_engine: Engine) -> None:
    command.upgrade(_alembic_config(bare_engine), "0015")
    with bare_engine.begin() as db:
        for message_id, (stored, _) in _USAGE_TIMES.items():
            db.execute(
                text(
                    "INSERT INTO model_usage (session_id, model, message_id, request_id, input_tokens, output_tokens,"
                    " cache_read_tokens, cache_creation_tokens, cache_creation_1h_tokens, created_at)"
                    " VALUES ('s', 'claude-sonnet-4-5', :m, :m, 1, 1, 0, 0, 0, :t)"
                ),
                {"m": message_id, "t": stored},
            )
        db.execute(
            text(
                "INSERT INTO raw_event (event_id, session_id, event_name, received_at, ingested_at, payload)"
                " VALUES ('e1', 's', 'Stop', '2026-12-06 04:14:39.999999+00:00', '2026-12-06 04:14:41+00:00', '{}')"
            )
        )
    migrate(bare_engine)
    with bare_engine.connect() as db:
        usage = {m: t for m, t in db.execute(text("SELECT message_id, created_at FROM model_usage"))}
        event = db.execute(text("SELECT received_at, ingested_at FROM raw_event")).one()
    assert usage == {message_id: after for message_id, (_, after) in _USAGE_TIMES.items()}
    assert tuple(event) == ("2026-12-06 04:14:39.999999", "2026-12-06 04:14:41.000000")
    with Session(bare_engine) as db:
        assert db.exec(select(ModelUsage.created_at).where(ModelUsage.message_id == "m2")).one() == datetime(
            2026, 12, 6, 4, 14, 40, 123456, tzinfo=UTC
        )
        assert db.exec(select(RawEvent.received_at)).one() < datetime(2026, 12, 6, 4, 14, 40, tzinfo=UTC)
