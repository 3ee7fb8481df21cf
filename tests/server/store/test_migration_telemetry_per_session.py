"""Migration 0014: costs stored before values were checked stop being costs; telemetry keys become per session."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from server.store.database import _alembic_config, make_engine, migrate


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_upgrading_clears_non_finite_and_negative_costs_and_keeps_the_rest(bare_engine: Engine) -> None:
    config = _alembic_config(bare_engine)
    before = ScriptDirectory.from_config(config).get_revision("0014").down_revision
    assert isinstance(before, str)
    command.upgrade(config, before)
    with bare_engine.begin() as db:
        for n, cost in enumerate([math.inf, -1.0, 1e308, 0.25]):
            db.execute(
                text(
                    "INSERT INTO api_request (session_id, event_sequence, cost_usd, input_tokens, output_tokens, "
                    "cache_read_tokens, cache_creation_tokens, created_at) VALUES ('s', :n, :cost, 0, 0, 0, 0, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"n": n, "cost": cost},
            )
            db.execute(
                text("INSERT INTO \"session\" (session_id, models, cost_usd) VALUES (:id, '[]', :cost)"),
                {"id": f"s{n}", "cost": cost},
            )
    migrate(bare_engine)
    with bare_engine.connect() as db:
        requests = db.execute(text("SELECT event_sequence, cost_usd FROM api_request ORDER BY event_sequence")).all()
        sessions = db.execute(text('SELECT session_id, cost_usd FROM "session" ORDER BY session_id')).all()
    assert [tuple(r) for r in requests] == [(0, None), (1, None), (2, None), (3, 0.25)]
    assert [tuple(r) for r in sessions] == [("s0", None), ("s1", None), ("s2", 1e308), ("s3", 0.25)]
