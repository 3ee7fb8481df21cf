"""``switchboard export --table T [--since D] [--format csv|jsonl]``: a store table for a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from server.cli import main
from server.store.models import AgentSession, Delegation


def _seed(engine: Engine) -> None:
    with Session(engine) as db:
        db.add(AgentSession(session_id="old", started_at=datetime(2026, 11, 1, tzinfo=UTC), cost_usd=1.5))
        db.add(AgentSession(session_id="new", started_at=datetime(2026, 12, 4, 9, tzinfo=UTC), cost_usd=None))
        db.add(Delegation(request_id="r1", provider="p", model="m", status="ok", latency_ms=math.nan))
        db.commit()


def test_export_writes_csv_with_a_header_and_empty_cells_for_null(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(engine)
    assert main(["export", "--table", "session"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["session_id"], r["cost_usd"]) for r in rows] == [("new", ""), ("old", "1.5")]
    assert rows[0]["started_at"].startswith("2026-12-04T09:00:00")


def test_since_keeps_the_rows_from_that_day_and_jsonl_has_no_nan(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(engine)
    assert main(["export", "--table", "session", "--since", "2026-12-01", "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["session_id"] for line in lines] == ["new"]
    assert main(["export", "--table", "delegation", "--format", "jsonl"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["latency_ms"] is None and row["request_id"] == "r1"


def test_an_unknown_table_and_a_bad_date_say_what_works(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--table", "sessions"]) == 2
    assert "there is no table 'sessions'; tables: agent_log, api_request," in capsys.readouterr().err
    assert main(["export", "--table", "session", "--since", "yesterday"]) == 2
    assert "give YYYY-MM-DD" in capsys.readouterr().err
