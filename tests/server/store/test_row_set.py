"""RowSet writes the rows it changed; on SQLite through the driver's executemany, the same as SQLAlchemy's update."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, bindparam, delete, update
from sqlmodel import Session

from server.store import row_set
from server.store.models import AgentSession
from server.store.row_set import RowSet

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
_COLUMNS = ["cwd", "models", "cost_usd", "context_tokens", "ended_at"]
_changes = st.fixed_dictionaries(
    {
        "cwd": st.none() | _text,
        "models": st.lists(_text, max_size=3),
        "cost_usd": st.none() | st.floats(0, 1e6, allow_nan=False),
        "context_tokens": st.none() | st.integers(0, 2**53),
        "ended_at": st.none()
        | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
            lambda moment: moment.replace(tzinfo=UTC) + timedelta(0)
        ),
    }
)


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    """The rows as the database holds them (the driver's values: SQLite's text of a time, not a datetime)."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql('SELECT * FROM "session" ORDER BY session_id')]


def _write(engine: Engine, changes: list[dict[str, Any]], driver: bool) -> list[tuple[Any, ...]]:
    with Session(engine) as db:
        db.exec(delete(AgentSession))  # pyright: ignore[reportCallIssue, reportArgumentType]
        conn = db.connection()
        rows = RowSet(AgentSession, "session_id")
        for n in range(len(changes)):
            rows.get(f"s{n}")
        rows.write(conn)
        db.commit()
    with Session(engine) as db:
        conn = db.connection()
        rows = RowSet(AgentSession, "session_id")
        rows.load(conn, {f"s{n}" for n in range(len(changes))}, _COLUMNS)
        for n, change in enumerate(changes):
            rows.get(f"s{n}").update(change)
        if driver:
            rows.write(conn)
        else:
            table = rows.table
            params = [{**rows.rows[key], "key_": key} for key in sorted(rows.touched)]
            for param in params:
                del param["session_id"]
            if params:
                conn.execute(update(table).where(table.c.session_id == bindparam("key_")), params)
        db.commit()
    return _stored(engine)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(_changes, min_size=1, max_size=4))
def test_rows_updated_through_the_driver_equal_rows_updated_by_sqlalchemy(
    engine: Engine, changes: list[dict[str, Any]]
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the driver's path is SQLite's")
    assert _write(engine, changes, driver=True) == _write(engine, changes, driver=False)


def test_the_driver_path_is_taken_on_sqlite(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the driver's path is SQLite's")
    calls: list[int] = []
    real = row_set.sqlite_update_many
    monkeypatch.setattr(row_set, "sqlite_update_many", lambda *a: calls.append(1) or real(*a))  # pyright: ignore
    _write(engine, [{"cwd": "/x", "models": ["m"], "cost_usd": 1.0, "context_tokens": 3, "ended_at": None}], True)
    assert calls == [1]
