from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from server.analytics import Window, context_pressure
from server.config import ContextConfig
from tests.server.analytics.seed import add, at, raw, session


def test_hook_warnings_and_sessions_over_the_threshold_are_reported(engine: Engine) -> None:
    payload = {
        "hook_event_name": "ContextPressure",
        "fill_ratio": 0.8,
        "context_tokens": 160_000,
        "window_tokens": 200_000,
    }
    add(
        engine,
        session("full", context_tokens=150_000),
        session("light", context_tokens=20_000),
        raw("full", "ContextPressure", 1, payload),
        raw("full", "ContextPressure", 2, payload | {"fill_ratio": 0.85, "context_tokens": 170_000}),
        raw("full", "UserPromptSubmit", 3, {}),
    )
    with Session(engine) as db:
        report = context_pressure(db, Window(), ContextConfig(threshold=0.7, window_tokens=200_000))
        strict = context_pressure(db, Window(), ContextConfig(threshold=0.05, window_tokens=200_000))
        later = context_pressure(db, Window(since=at(1.5)))
    assert (report.warnings, report.sessions_warned) == (2, 1)
    assert [(e.at, e.fill_ratio, e.context_tokens) for e in report.latest] == [
        (at(2), 0.85, 170_000),
        (at(1), 0.8, 160_000),
    ]
    assert [(s.session_id, s.fill_ratio) for s in report.sessions_over] == [("full", 0.75)]
    assert report.sessions_over_count == 1
    assert [s.session_id for s in strict.sessions_over] == ["full", "light"]
    assert strict.sessions_over_count == 2
    assert later.warnings == 1
