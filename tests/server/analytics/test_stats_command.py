from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.cli import main
from server.commands.stats import when
from server.store.models import AgentSession
from tests.server.analytics.seed import add, delegation, prompt, session, tool, usage


def _seed(engine: Engine) -> None:
    add(
        engine,
        session("s-1", cost_usd=0.4213, project="api"),
        session("s-2", 60, cost_usd=None, cost_source=None, project="web"),
        prompt("s-1", 1, "fix the bug"),
        tool("s-1", "Bash", 2),
        usage("s-1", "claude-sonnet-4-5", 2, 0.4),
        usage("s-1", "mystery-model", 3, None),
        delegation("s-1", 3),
    )


def test_stats_json_lists_each_session_with_its_cost_of_record(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(engine)
    assert main(["stats", "--json", "--all"]) == 0
    data = json.loads(capsys.readouterr().out)
    costs = {s["session_id"]: s["cost_usd"] for s in data["recent_sessions"]}
    assert costs == {"s-1": 0.4213, "s-2": None}
    assert data["sessions"]["sessions_without_cost"] == 1
    models = {m["model"]: m["cost_usd"] for m in data["sessions"]["by_model"]}
    assert models == {"claude-sonnet-4-5": 0.4, "mystery-model": None}
    assert data["savings"]["method"].startswith("Per delegate call")


def test_stats_prints_tables_and_unknown_costs_as_such(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(engine)
    assert main(["stats", "--all", "--section", "sessions"]) == 0
    out = capsys.readouterr().out
    assert "Sessions: 2 (2 ended)" in out
    assert "cost of record $0.4213 + 1 with no cost recorded" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(("s-1", "s-2", "mystery"))}
    assert "$0.4213" in lines["s-1"]
    assert "unknown" in lines["s-2"]
    assert "unpriced" in lines["mystery-model"]
    assert "Tools:" not in out


def test_stats_session_shows_its_timeline(engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(engine)
    assert main(["stats", "--session", "s-1", "--section", "sessions"]) == 0
    out = capsys.readouterr().out
    assert "Timeline of s-1" in out
    assert "- prompt fix the bug" in out
    assert "    - tool_call Bash [ok]" in out
    assert main(["stats", "--session", "nope", "--section", "tools"]) == 2


def test_stats_ingests_the_spool_first(engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = home / "spool" / "new"
    new.mkdir(parents=True)
    (home / "spool" / "tmp").mkdir()
    event = {"hook_event_name": "ContextPressure", "session_id": "s-9", "fill_ratio": 0.9, "context_tokens": 180_000}
    (new / "ctx-test-1").write_text(json.dumps(event))
    assert main(["stats", "--json", "--all", "--section", "context"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["context"]["warnings"] == 1
    assert data["context"]["latest"][0]["fill_ratio"] == 0.9


def test_stats_json_lists_every_session_of_the_window_not_only_a_page(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add(engine, *[session(f"s-{i:02d}", i, cost_usd=i / 100) for i in range(25)])
    assert main(["stats", "--json", "--all", "--section", "sessions", "--no-ingest"]) == 0
    rows = json.loads(capsys.readouterr().out)["recent_sessions"]
    assert len(rows) == 25
    assert rows[0] == rows[0] | {"session_id": "s-24", "cost_usd": 0.24}
    assert main(["stats", "--all", "--section", "sessions", "--no-ingest"]) == 0
    assert "... 5 more" in capsys.readouterr().out


def test_days_zero_is_an_error_naming_the_flag_not_seven_days(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["stats", "--days", "0"])
    assert exited.value.code == 2
    assert "argument --days: must be more than 0 days and at most 36500 (got 0)" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--since", "--until"])
def test_a_bad_date_names_its_own_flag_and_the_forms_it_takes(
    flag: str, engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["stats", flag, "last tuesday"])
    err = capsys.readouterr().err
    assert f"argument {flag}: 'last tuesday' is not a date" in err and "yesterday" in err


def test_since_reads_yesterday_and_today_as_the_start_of_the_local_day() -> None:
    now = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)
    local_midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    assert when("today", now) == local_midnight
    assert when("Yesterday", now) == local_midnight - timedelta(days=1)
    assert when("2026-11-27") == datetime(2026, 11, 27, tzinfo=UTC)
    assert when("2026-11-27T09:30+02:00") == datetime(2026, 11, 27, 7, 30, tzinfo=UTC)


def test_since_yesterday_keeps_a_session_of_today_and_drops_one_of_last_week(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add(engine, session("new", 0), session("old", -7 * 24 * 60))
    recent = datetime.now(UTC) - timedelta(minutes=5)
    with Session(engine) as db:
        for row in db.exec(select(AgentSession)).all():
            row.started_at = recent if row.session_id == "new" else recent - timedelta(days=7)
            db.add(row)
        db.commit()
    assert main(["stats", "--json", "--since", "yesterday", "--no-ingest"]) == 0
    listed = {s["session_id"] for s in json.loads(capsys.readouterr().out)["recent_sessions"]}
    assert listed == {"new"}


def test_text_and_json_use_calls_for_attempts_and_requests_for_delegate_calls(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = "r-1"
    add(
        engine,
        session("s-1"),
        delegation("s-1", 1, request_id=request, status="server_error", cost_usd=0.0),
        delegation("s-1", 1.5, request_id=request, attempt=1),
    )
    assert main(["stats", "--all", "--json", "--section", "delegations", "--no-ingest"]) == 0
    data = json.loads(capsys.readouterr().out)["delegations"]
    assert (data["requests"], data["calls"]) == (1, 2)
    assert main(["stats", "--all", "--section", "delegations", "--no-ingest"]) == 0
    assert "Delegations: 1 requests, 2 calls," in capsys.readouterr().out


def test_the_savings_method_paragraph_prints_only_for_the_savings_section(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(engine)
    assert main(["stats", "--all", "--no-ingest"]) == 0
    everything = capsys.readouterr().out
    assert main(["stats", "--all", "--section", "savings", "--no-ingest"]) == 0
    alone = capsys.readouterr().out
    assert "Per delegate call" not in everything and "the savings section alone explains it" in everything
    assert "Per delegate call that succeeded inside a Claude Code session" in alone


@pytest.mark.parametrize("days", ["1e10", "inf", "nan", "0", "-3"])
def test_stats_refuses_a_look_back_out_of_bounds_with_the_reason(
    home: Path, capsys: pytest.CaptureFixture[str], days: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["stats", "--days", days, "--no-ingest"])
    assert exited.value.code == 2
    assert "--days" in capsys.readouterr().err


def test_stats_section_savings_prints_the_net_method_and_a_negative_saving(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add(
        engine,
        session("s-1", cost_usd=0.0043),
        delegation(
            "s-1", 2, input_tokens=30, output_tokens=5, cost_usd=0.0001, claude_ask_tokens=300, claude_read_tokens=600
        ),
    )
    assert main(["stats", "--all", "--section", "savings", "--no-ingest"]) == 0
    out = capsys.readouterr().out
    assert "-$0.0062 saved" in out and "Claude overhead" in out, out
    assert "Method:" in out and "tool_use input" in out and "tool_result" in out
    assert "the extra request the call caused" in out and "cache reads of the context it re-read" in out
