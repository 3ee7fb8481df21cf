"""A transcript_path comes from a hook payload: whatever it names, reading it is bounded in time and memory."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.settings import Settings
from server.store import transcripts
from server.store.models import AgentSession, ModelUsage, RawEvent
from server.store.transcripts import NotRegularFile, TranscriptCache, parse_transcript
from tests.server.store.spool_support import hook, spool_event
from tests.server.store.test_transcripts import HAIKU, assistant

T0 = 1_700_000_000.0
SWITCHBOARD = Path(sys.executable).with_name("switchboard")


def _limit_memory() -> None:  # runs in the child: an unbounded read of a 2 GB line dies of MemoryError
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, 1536 * 1024 * 1024))


def ingest_cli(settings: Settings, transcript: str) -> subprocess.CompletedProcess[bytes]:
    """Spool a session pointing at ``transcript`` and run ``switchboard ingest`` with time and memory bounds."""
    spool = settings.spool_dir
    spool_event(spool, hook("SessionStart", source="startup", transcript_path=transcript), at=T0)
    spool_event(spool, hook("Stop", transcript_path=transcript), at=T0 + 1)
    return subprocess.run(
        [str(SWITCHBOARD), "ingest"], capture_output=True, timeout=90, check=False, preexec_fn=_limit_memory
    )


def assert_events_landed(engine: Engine, transcript: str) -> None:
    with Session(engine) as db:
        assert len(db.exec(select(RawEvent)).all()) == 2
        session = db.exec(select(AgentSession)).one()
    assert session.transcript_path == transcript


def test_a_fifo_transcript_is_refused_without_waiting_and_the_events_land(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    fifo = tmp_path / "transcript.jsonl"
    os.mkfifo(fifo)
    done = ingest_cli(settings, str(fifo))
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert_events_landed(engine, str(fifo))
    with pytest.raises(NotRegularFile):
        parse_transcript(fifo)


def test_dev_zero_as_a_transcript_is_refused_and_the_events_land(settings: Settings, engine: Engine) -> None:
    done = ingest_cli(settings, "/dev/zero")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert_events_landed(engine, "/dev/zero")


def test_a_2_gb_sparse_transcript_is_read_in_bounded_memory_and_the_events_land(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    sparse = tmp_path / "sparse.jsonl"
    with sparse.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # zeros without a newline, taking no disk space
    done = ingest_cli(settings, str(sparse))
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert_events_landed(engine, str(sparse))


def test_a_read_stops_at_its_budget_and_the_cache_goes_on_from_there(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [json.dumps(assistant(f"msg_{n}", f"req_{n}", HAIKU, (n, 1, 0, 0))) + "\n" for n in range(10)]
    path.write_text("".join(lines))
    first, offset = parse_transcript(path, max_read=len(lines[0]) * 3)
    assert first.more and len(first.usage) == 3 and offset == sum(len(line) for line in lines[:3])
    cache = TranscriptCache()
    seen: list[tuple[str, str]] = []
    while (part := cache.read_if_changed(str(path))) is not None:  # the real budget holds all ten at once
        cache.commit()
        seen.extend(part.usage)
    assert seen == [(f"msg_{n}", f"req_{n}") for n in range(10)]


def test_an_unchanged_file_read_only_in_part_is_read_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.jsonl"
    lines = [json.dumps(assistant(f"msg_{n}", f"req_{n}", HAIKU, (n, 1, 0, 0))) + "\n" for n in range(4)]
    path.write_text("".join(lines))
    monkeypatch.setattr(transcripts, "MAX_READ_BYTES", len(lines[0]) * 2)
    cache = TranscriptCache()
    parts: list[int] = []
    for _ in range(4):
        part = cache.read_if_changed(str(path))
        cache.commit()
        parts.append(len(part.usage) if part else -1)
    assert parts[:2] == [2, 2] and sum(n for n in parts if n > 0) == 4


def test_a_line_over_the_cap_is_passed_over_and_the_next_one_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcripts, "MAX_LINE_BYTES", 4096)
    huge = json.dumps(assistant("msg_huge", "req_huge", HAIKU, (9, 9, 9, 9)) | {"pad": "x" * 10_000}) + "\n"
    fine = json.dumps(assistant("msg_ok", "req_ok", HAIKU, (1, 1, 1, 1))) + "\n"
    path = tmp_path / "t.jsonl"
    path.write_text(huge + fine)
    transcript, offset = parse_transcript(path)
    assert list(transcript.usage) == [("msg_ok", "req_ok")]
    assert offset == len(huge) + len(fine)


def test_a_file_without_a_newline_counts_nothing_until_its_line_ends(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    line = json.dumps(assistant("msg_1", "req_1", HAIKU, (1, 2, 3, 4)))
    path.write_text(line)
    done = ingest_cli(settings, str(path))
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    with Session(engine) as db:
        assert db.exec(select(ModelUsage)).all() == []
    path.write_text(line + "\n")
    spool_event(settings.spool_dir, hook("Stop", transcript_path=str(path)), at=T0 + 2)
    assert subprocess.run([str(SWITCHBOARD), "ingest"], timeout=90, check=False).returncode == 0
    with Session(engine) as db:
        assert [row.message_id for row in db.exec(select(ModelUsage))] == ["msg_1"]
