"""The service's status-line summary: today's spend, each session's delegations, open breakers, the daily cap."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from server.config import BudgetConfig
from server.service.summary import build_summary, write_summary
from server.store.models import AgentSession, Delegation

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def _seed(engine: Engine) -> None:
    with Session(engine) as db:
        db.add(AgentSession(session_id="today", started_at=NOW - timedelta(hours=1), cost_usd=1.25))
        db.add(AgentSession(session_id="yesterday", started_at=NOW - timedelta(days=1), cost_usd=9.0))
        for i, cost in enumerate((0.001, 0.002)):
            db.add(
                Delegation(
                    session_id="today",
                    request_id=f"r{i}",
                    provider="groq",
                    model="llama-3.3-70b-versatile",
                    status="ok",
                    input_tokens=1000,
                    output_tokens=500,
                    cost_usd=cost,
                    claude_ask_tokens=20,  # measured: what asking and reading the answer cost Claude
                    claude_read_tokens=500,
                    created_at=NOW - timedelta(minutes=5),
                )
            )
        db.commit()


def test_the_summary_has_todays_spend_and_each_sessions_delegations_and_saving(engine: Engine) -> None:
    _seed(engine)
    summary = build_summary(engine, ["groq"], BudgetConfig(daily_usd=0.05), now=NOW)
    assert summary["day"] == "2026-12-05"
    assert summary["today_usd"] == 1.253  # the session started today plus today's delegations, not yesterday's
    today = summary["sessions"]["today"]
    assert today["stored_usd"] == 1.25 and today["delegations"] == 2 and today["saved_usd"] > 0
    assert "yesterday" not in summary["sessions"]
    assert summary["breakers"] == ["groq"]
    assert (summary["daily_cap_usd"], summary["daily_spent_usd"]) == (0.05, 0.003)


def test_the_summary_file_is_private_and_replaced_whole(tmp_path: Path) -> None:
    write_summary(tmp_path, {"day": "2026-12-05", "today_usd": 1.0}, written_at=5.0)
    path = tmp_path / "statusline.json"
    assert json.loads(path.read_text()) == {"day": "2026-12-05", "today_usd": 1.0, "written_at": 5.0}
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["statusline.json"]
