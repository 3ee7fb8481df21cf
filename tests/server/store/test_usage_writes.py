"""Usage rows written a batch at a time are the rows written a transcript at a time.

Import and ingest hold the usage lines of many transcripts and write them together (one look-up of the stored
rows, one insert); a line that several transcripts hold (a subagent's sidechain copied into the main one, a
resumed session's history, a message read mid-stream) must end as it did when each transcript was written in
turn: later reads win, a row keeps the session and agent it was first stored with.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from server.store import importer, usage_rows
from server.store.importer import import_transcripts
from server.store.models import AgentSession, ModelUsage, SubagentRun, TranscriptMark
from tests.server.store.test_transcripts import HAIKU, assistant, write_jsonl

SONNET = "claude-sonnet-4-5-20250929"
_counts = st.tuples(*(st.integers(0, 5000) for _ in range(4)))
_line = st.tuples(st.integers(0, 5), st.sampled_from([HAIKU, SONNET, "mystery-model-7"]), _counts)
_transcript = st.lists(_line, max_size=6)
_session = st.tuples(_transcript, st.lists(_transcript, max_size=2))
"""A session: its main transcript's lines and its subagents'; message ids come from a pool of six, so sessions
and agents share lines."""


def _write(root: Path, sessions: list[tuple[list[Any], list[list[Any]]]]) -> None:
    folder = root / "-work-app"
    folder.mkdir(parents=True)
    for n, (main, agents) in enumerate(sessions):
        for a, lines in enumerate(agents):
            (folder / f"s{n}" / "subagents").mkdir(parents=True, exist_ok=True)
            records = [assistant(f"m{i}", f"r{i}", model, c, agent_id=f"s{n}a{a}") for i, model, c in lines]
            write_jsonl(folder / f"s{n}" / "subagents" / f"agent-s{n}a{a}.jsonl", list(records))
        write_jsonl(folder / f"s{n}.jsonl", [assistant(f"m{i}", f"r{i}", model, c) for i, model, c in main])


def _stored(engine: Engine) -> tuple[list[Any], ...]:
    with Session(engine) as db:
        usage = db.exec(select(ModelUsage).order_by(ModelUsage.id)).all()  # pyright: ignore[reportArgumentType]
        sessions = db.exec(select(AgentSession).order_by(AgentSession.session_id)).all()
        agents = db.exec(select(SubagentRun).order_by(SubagentRun.agent_id)).all()
        return (
            [u.model_dump(exclude={"id"}) for u in usage],
            [_summed(s.model_dump(include={"session_id", "models", "cost_usd", "cost_source"})) for s in sessions],
            [_summed(a.model_dump(exclude={"id", "transcript_path", "started_at", "stopped_at"})) for a in agents],
        )


def _summed(row: dict[str, Any]) -> dict[str, Any]:
    """A session's or subagent's row with its cost, a SQL sum of its usage rows' costs, to 1e-12 USD.

    PostgreSQL sums in the order the rows lie on disk, and an updated row moves to the end: written one transcript at
    a time, a line another transcript holds is inserted then updated, so the same costs were summed in another order
    and ended 1 ulp apart (3.375e-05 and 3.375000000000001e-05). The usage rows themselves compare exactly.
    """
    cost = row["cost_usd"]
    return {**row, "cost_usd": None if cost is None else round(cost, 12)}


def _import(engine: Engine, root: Path) -> tuple[list[Any], ...]:
    with Session(engine) as db:
        for model in (ModelUsage, AgentSession, SubagentRun, TranscriptMark):
            db.exec(delete(model))  # pyright: ignore[reportCallIssue, reportArgumentType]
        db.commit()
    import_transcripts(engine, root)
    return _stored(engine)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sessions=st.lists(_session, min_size=1, max_size=5))
def test_rows_written_together_equal_rows_written_one_transcript_at_a_time(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, sessions: list[tuple[list[Any], list[list[Any]]]]
) -> None:
    monkeypatch.setattr(importer, "worth_a_worker", lambda: False)
    root = Path(tempfile.mkdtemp())
    try:
        _write(root / "projects", sessions)
        together = _import(engine, root / "projects")
        monkeypatch.setattr(usage_rows, "_PENDING_LINES", 1)  # each transcript's rows written as it is read
        one_by_one = _import(engine, root / "projects")
    finally:
        shutil.rmtree(root)
        monkeypatch.undo()
    assert together == one_by_one
    lines = {i for main, agents in sessions for lines in (main, *agents) for i, _, _ in lines}
    assert len(together[0]) == len(lines)  # one row per message, however many transcripts hold it


def test_a_message_two_transcripts_hold_keeps_its_first_agent_and_the_last_counts(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "worth_a_worker", lambda: False)
    # The subagent's transcript is read first: its line is stored as the agent's; the main one's sidechain copy
    # (here, read later in the stream, with the final output count) updates the counts, not the agent.
    _write(tmp_path / "p", [([(0, HAIKU, (10, 1, 0, 0)), (0, HAIKU, (10, 90, 0, 0))], [[(0, HAIKU, (10, 5, 0, 0))]])])
    usage, sessions, agents = _import(engine, tmp_path / "p")
    assert [(u["message_id"], u["agent_id"], u["output_tokens"]) for u in usage] == [("m0", "s0a0", 90)]
    assert [(a["agent_id"], a["output_tokens"]) for a in agents] == [("s0a0", 90)]
    assert sessions[0]["models"] == [HAIKU]
