"""A transcript line nested past any parser's depth neither stops ingest nor import (issue 17, item 4).

The line is kept per line: the other lines of the same transcript, and the other transcripts of the same
import, count as if it were not there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.settings import Settings
from server.store.importer import import_transcripts
from server.store.models import AgentSession, ModelUsage
from server.store.transcripts import parse_transcript
from tests.server.store.test_importer import _session
from tests.server.store.test_transcript_bounds import assert_events_landed, ingest_cli
from tests.server.store.test_transcripts import HAIKU, assistant, write_jsonl


def deep_usage_line(depth: int) -> str:
    """A line that looks like usage to a byte scan, nested ``depth`` levels down (8.7 KB at 1,200 levels)."""
    return '{"type":"assistant","message":{"usage":' + '{"a":[' * depth + "1" + "]}" * depth + "}}"


def test_a_line_nested_1200_levels_deep_lets_switchboard_ingest_finish_and_the_events_land(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    transcript = write_jsonl(
        tmp_path / "deep.jsonl",
        [deep_usage_line(1200), assistant("m1", "r1", HAIKU, (1000, 50, 0, 0))],
    )
    done = ingest_cli(settings, str(transcript))
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert_events_landed(engine, str(transcript))
    assert not list((settings.spool_dir / "new").iterdir())
    with Session(engine) as db:
        assert [row.message_id for row in db.exec(select(ModelUsage))] == ["m1"]


def test_a_deep_line_in_one_transcript_leaves_the_others_of_the_import_whole(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    good = [_session(root, f"s-{n}", 0.5) for n in range(3)]
    bad = _session(root, "s-deep", 0.25)
    bad.write_text(deep_usage_line(1200) + "\n" + bad.read_text())
    report = import_transcripts(engine, root)
    assert report.sessions == 4
    with Session(engine) as db:
        costs = {row.session_id: row.cost_usd for row in db.exec(select(AgentSession))}
    assert costs == {**{path.stem: 0.5 for path in good}, "s-deep": 0.25}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(min_value=0, max_value=5000), where=st.sampled_from(["usage", "message", "top", "cost"]))
def test_no_nesting_depth_breaks_a_transcript_or_its_other_lines(
    tmp_path_factory: pytest.TempPathFactory, depth: int, where: str
) -> None:
    nested = "[" * depth + "]" * depth
    line = {
        "usage": '{"message":{"id":"x","model":"m","usage":' + nested.replace("[]", "[1]") + "}}",
        "message": '{"message":' + nested + ',"usage":1}',
        "top": nested + ' "usage"',
        "cost": '{"type":"cost-state","totalCostUSD":1,"x":' + (nested or "0") + "}",
    }[where]
    path = tmp_path_factory.mktemp("t") / "t.jsonl"
    path.write_text(line + "\n" + json.dumps(assistant("m1", "r1", HAIKU, (10, 5, 0, 0))) + "\n")
    transcript, offset = parse_transcript(path)
    assert offset == path.stat().st_size
    assert list(transcript.usage) == [("m1", "r1")]
