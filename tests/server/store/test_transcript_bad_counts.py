"""Bad usage input (issue 22): a line with negative, non-numeric or absurd counts is skipped and counted with its
reason (``doctor`` shows the count); an unknown model is unpriced, never $0, and ``stats`` says how many lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.cli import main
from server.doctor import DoctorContext, run_checks
from server.settings import Settings
from server.store.importer import import_transcripts
from server.store.models import AgentSession, ModelUsage, TranscriptMark
from tests.server.store.test_transcripts import HAIKU, assistant, write_jsonl


def with_usage(message_id: str, **usage: Any) -> dict[str, Any]:
    line = assistant(message_id, f"r-{message_id}", HAIKU, (10, 5, 0, 0))
    line["message"]["usage"].update(usage)
    return line


def write_bad_session(root: Path) -> Path:
    folder = root / "-work-app"
    folder.mkdir(parents=True)
    return write_jsonl(
        folder / "s-bad.jsonl",
        [
            {"type": "user", "cwd": "/work/app", "timestamp": "2026-11-20T10:00:00.000Z", "message": "hi"},
            with_usage("neg", output_tokens=-5),
            with_usage("text", input_tokens="12"),
            with_usage("nan", cache_read_input_tokens=1.5),
            with_usage("huge", cache_creation_input_tokens=10**12),
            with_usage("bool", output_tokens=True),
            assistant("good", "r-good", HAIKU, (1000, 100, 0, 0)),
            assistant("mystery", "r-mystery", "claude-imaginary-9", (1000, 100, 0, 0)),
        ],
    )


def test_bad_counts_are_skipped_and_counted_by_reason_and_the_good_lines_count(engine: Engine, tmp_path: Path) -> None:
    write_bad_session(tmp_path / "projects")
    import_transcripts(engine, tmp_path / "projects")
    with Session(engine) as db:
        usage = {row.message_id: row.cost_usd for row in db.exec(select(ModelUsage))}
        mark = db.exec(select(TranscriptMark)).one()
        session = db.exec(select(AgentSession)).one()
    assert usage == {"good": pytest.approx((1000 * 1 + 100 * 5) / 1e6), "mystery": None}
    assert mark.skipped == {
        "negative count": 1,
        "count not a number": 2,
        "count not a whole number": 1,
        "absurd count (over 100,000,000)": 1,
    }
    assert session.cost_usd is None  # one response unpriced: the sum is unknown, not the priced part


def test_doctor_shows_how_many_usage_lines_were_skipped_and_why(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    write_bad_session(tmp_path / "projects")
    import_transcripts(engine, tmp_path / "projects")
    project, user = tmp_path / "proj", tmp_path / "user"
    project.mkdir()
    user.mkdir()
    [check] = [
        c
        for c in run_checks(DoctorContext(settings=settings, project=project, user_home=user))
        if c.name == "transcript lines"
    ]
    assert check.detail.startswith("5 usage lines skipped as unusable: ")
    assert "1 negative count" in check.detail and "2 count not a number" in check.detail


def test_stats_says_how_many_lines_are_unpriced_and_which_costs_are_estimated(
    engine: Engine, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "projects"
    write_bad_session(root)
    other = write_jsonl(
        root / "-work-app" / "s-reported.jsonl",
        [
            assistant("m2", "r2", HAIKU, (10, 5, 0, 0)),
            {"type": "cost-state", "totalCostUSD": 0.5},
        ],
    )
    assert other.exists()
    fine = write_jsonl(root / "-work-app" / "s-estimated.jsonl", [assistant("m3", "r3", HAIKU, (10, 5, 0, 0))])
    assert fine.exists()
    import_transcripts(engine, root)
    assert main(["stats", "--all", "--section", "sessions"]) == 0
    out = capsys.readouterr().out
    assert "(1 reported by Claude Code, 1 estimated at list prices)" in out
    assert "1 usage lines unpriced" in out
    assert main(["stats", "--json", "--all"]) == 0
    data = json.loads(capsys.readouterr().out)["sessions"]
    assert (data["sessions_reported"], data["sessions_estimated"], data["sessions_without_cost"]) == (1, 1, 1)
