"""Tokens and cost from Claude Code transcripts, shaped like what Claude Code 2.1.328 writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from server.settings import Settings
from server.store.ingest import ingest_spool
from server.store.models import AgentSession, ModelUsage, SubagentRun
from server.store.spool import Spool
from server.store.transcripts import TranscriptCache, parse_transcript
from tests.server.store.spool_support import hook, spool_event

HAIKU = "claude-haiku-4-5-20251001"  # $1 in, $5 out, $0.10 cache read, $1.25 cache write per million
T0 = 1_700_000_000.0


def assistant(
    message_id: str,
    request_id: str,
    model: str,
    usage: tuple[int, int, int, int],
    *,
    agent_id: str | None = None,
    block: str = "text",
) -> dict[str, Any]:
    """One transcript line of an assistant message; Claude Code writes one per content block."""
    inp, out, cache_read, cache_write = usage
    return {
        "type": "assistant",
        "isSidechain": agent_id is not None,
        **({"agentId": agent_id} if agent_id else {}),
        "requestId": request_id,
        "timestamp": "2026-11-21T07:00:00.000Z",
        "message": {
            "id": message_id,
            "model": model,
            "role": "assistant",
            "content": [{"type": block}],
            "usage": {
                "input_tokens": inp,
                "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read,
                "output_tokens": out,
                "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": cache_write},
            },
        },
    }


def cost_state(total: float, *, unknown: bool = False) -> dict[str, Any]:
    return {"type": "cost-state", "sessionId": "sess-1", "totalCostUSD": total, "hasUnknownModelCost": unknown}


def write_jsonl(path: Path, records: list[dict[str, Any] | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def ingest_session(settings: Settings, engine: Engine, transcript: Path, *extra: dict[str, Any]) -> None:
    spool = settings.spool_dir
    spool_event(spool, hook("SessionStart", source="startup", transcript_path=str(transcript)), at=T0)
    for n, payload in enumerate(extra):
        spool_event(spool, payload, at=T0 + 1 + n)
    spool_event(spool, hook("Stop", transcript_path=str(transcript)), at=T0 + 100)
    report = ingest_spool(engine, Spool(spool))
    assert report.error is None


def session_row(engine: Engine) -> AgentSession:
    with Session(engine) as db:
        return db.exec(select(AgentSession)).one()


def test_usage_repeated_per_content_block_is_counted_once(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    transcript = write_jsonl(
        tmp_path / "main.jsonl",
        [
            {"type": "user", "message": {"role": "user", "content": "hi"}},
            assistant("msg_1", "req_1", HAIKU, (1000, 200, 5000, 2000), block="thinking"),
            assistant("msg_1", "req_1", HAIKU, (1000, 200, 5000, 2000), block="text"),
            assistant("msg_1", "req_1", HAIKU, (1000, 200, 5000, 2000), block="tool_use"),
            {"type": "user", "message": {"role": "user", "content": [{"type": "tool_result"}]}},
            assistant("msg_2", "req_2", HAIKU, (300, 100, 8000, 0)),
            assistant("msg_2", "req_2", HAIKU, (300, 100, 8000, 0)),
        ],
    )
    ingest_session(settings, engine, transcript)
    with Session(engine) as db:
        rows = db.exec(select(ModelUsage).order_by(ModelUsage.message_id)).all()
    assert [(r.message_id, r.request_id, r.input_tokens, r.output_tokens) for r in rows] == [
        ("msg_1", "req_1", 1000, 200),
        ("msg_2", "req_2", 300, 100),
    ]
    # msg_1: 1000 x $1 + 200 x $5 + 5000 x $0.10 + 2000 x $1.25 = $5,000 per million; msg_2: $1,600 per million.
    assert rows[0].cost_usd == pytest.approx(0.005)
    assert rows[1].cost_usd == pytest.approx(0.0016)
    session = session_row(engine)
    assert (session.cost_source, session.models) == ("computed", [HAIKU])
    assert session.cost_usd == pytest.approx(0.0066)
    assert session.context_tokens == 300 + 8000  # the latest response's prompt: input + cache


def test_an_unknown_model_is_unpriced_not_free(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    transcript = write_jsonl(
        tmp_path / "main.jsonl",
        [
            assistant("msg_1", "req_1", HAIKU, (1000, 100, 0, 0)),
            assistant("msg_2", "req_2", "mystery-model-7", (1000, 100, 0, 0)),
            assistant("msg_2", "req_2", "mystery-model-7", (1000, 100, 0, 0)),
        ],
    )
    ingest_session(settings, engine, transcript)
    with Session(engine) as db:
        costs = {r.model: r.cost_usd for r in db.exec(select(ModelUsage))}
    assert costs[HAIKU] == pytest.approx(0.0015)
    assert costs["mystery-model-7"] is None
    session = session_row(engine)
    assert (session.cost_usd, session.cost_source, session.models) == (None, "computed", [HAIKU, "mystery-model-7"])


def test_claude_codes_own_cost_state_is_the_cost_of_record(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    transcript = write_jsonl(
        tmp_path / "main.jsonl",
        [
            assistant("msg_1", "req_1", "mystery-model-7", (1000, 100, 0, 0)),
            cost_state(0.5),
            {"type": "last-prompt", "lastPrompt": "x"},
            cost_state(0.75),  # the last one wins
        ],
    )
    ingest_session(settings, engine, transcript)
    session = session_row(engine)
    assert (session.cost_usd, session.cost_source) == (0.75, "claude_code")


def test_a_cost_state_with_unknown_model_cost_is_not_taken(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    transcript = write_jsonl(
        tmp_path / "main.jsonl",
        [assistant("msg_1", "req_1", HAIKU, (1_000_000, 0, 0, 0)), cost_state(0.01, unknown=True)],
    )
    ingest_session(settings, engine, transcript)
    session = session_row(engine)
    assert session.cost_source == "computed" and session.cost_usd == pytest.approx(1.0)


def test_subagent_tokens_and_cost_come_from_its_own_transcript(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    main = write_jsonl(tmp_path / "main.jsonl", [assistant("msg_m", "req_m", HAIKU, (100, 10, 0, 0))])
    agent_lines = [
        assistant("msg_a1", "req_a1", HAIKU, (500, 30, 1000, 0), agent_id="a1"),
        assistant("msg_a1", "req_a1", HAIKU, (500, 30, 1000, 0), agent_id="a1"),
        assistant("msg_a2", "req_a2", "mystery-model-7", (600, 15, 0, 200), agent_id="a1"),
    ]
    agent = write_jsonl(tmp_path / "agent-a1.jsonl", [*agent_lines])
    # Claude Code may also copy a subagent's lines into the main transcript as sidechain: not twice.
    write_jsonl(main, [assistant("msg_m", "req_m", HAIKU, (100, 10, 0, 0)), agent_lines[0]])
    stop = hook("SubagentStop", agent_id="a1", agent_type="Explore", agent_transcript_path=str(agent))
    ingest_session(settings, engine, main, hook("SubagentStart", agent_id="a1", agent_type="Explore"), stop)
    with Session(engine) as db:
        run = db.exec(select(SubagentRun)).one()
        rows = db.exec(select(ModelUsage)).all()
    assert sorted((r.message_id, r.agent_id) for r in rows) == [("msg_a1", "a1"), ("msg_a2", "a1"), ("msg_m", None)]
    assert (run.input_tokens, run.output_tokens, run.cache_read_tokens, run.cache_creation_tokens) == (
        1100,
        45,
        1000,
        200,
    )
    assert (run.cost_usd, run.unpriced_models) == (None, ["mystery-model-7"])
    assert session_row(engine).context_tokens == 100  # the main agent's, not the subagent's


def test_subagent_cost_sums_its_priced_usage(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    main = write_jsonl(tmp_path / "main.jsonl", [])
    agent = write_jsonl(tmp_path / "agent.jsonl", [assistant("m1", "r1", HAIKU, (2000, 400, 0, 0), agent_id="a1")])
    stop = hook("SubagentStop", agent_id="a1", agent_type="Plan", agent_transcript_path=str(agent))
    ingest_session(settings, engine, main, stop)
    with Session(engine) as db:
        run = db.exec(select(SubagentRun)).one()
    assert run.cost_usd == pytest.approx((2000 * 1 + 400 * 5) / 1e6) and run.unpriced_models == []
    assert session_row(engine).cost_usd == pytest.approx(0.004)


def test_a_transcript_that_grew_is_read_again_without_double_counting(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "main.jsonl"
    first = json.dumps(assistant("msg_1", "req_1", HAIKU, (1000, 1, 0, 0)))  # mid-stream: partial output count
    second = json.dumps(assistant("msg_1", "req_1", HAIKU, (1000, 200, 0, 0)))
    third = json.dumps(assistant("msg_2", "req_2", HAIKU, (1000, 200, 0, 0)))
    path.write_text(first + "\n" + second[:40])  # Claude Code is still writing the second line
    ingest_session(settings, engine, path)
    assert session_row(engine).cost_usd == pytest.approx(0.001005)
    with path.open("a") as transcript:
        transcript.write(second[40:] + "\n" + third + "\n")
    spool_event(settings.spool_dir, hook("Stop", transcript_path=str(path)), at=T0 + 200)
    assert ingest_spool(engine, Spool(settings.spool_dir)).error is None
    with Session(engine) as db:
        rows = db.exec(select(ModelUsage).order_by(ModelUsage.message_id)).all()
    assert [(r.message_id, r.output_tokens) for r in rows] == [("msg_1", 200), ("msg_2", 200)]
    assert session_row(engine).cost_usd == pytest.approx(0.004)


def test_a_missing_transcript_leaves_the_session_without_usage(settings: Settings, engine: Engine) -> None:
    ingest_session(settings, engine, Path("/nonexistent/transcript.jsonl"))
    session = session_row(engine)
    assert (session.cost_usd, session.cost_source, session.models, session.context_tokens) == (None, None, [], None)


def test_parse_skips_lines_that_are_not_json_objects_and_synthetic_messages(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [
            "not json at all with usage",
            '["usage"]',
            assistant("msg_s", "", "<synthetic>", (0, 0, 0, 0)),
            assistant("msg_1", "req_1", HAIKU, (1, 2, 3, 4)),
            '{"type": "assistant", "message": {"id": "m", "model": "x", "usage": {"input_tokens": "many"}}}',
        ],
    )
    parsed, offset = parse_transcript(path)
    assert offset == path.stat().st_size
    assert sorted(parsed.usage) == [("msg_1", "req_1")]
    assert parsed.skipped == {"count not a number": 1}  # issue 22: a bad count is refused, not read as 0
    assert parsed.total_cost_usd is None


def test_cache_reads_only_what_was_appended_since_the_last_committed_read(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    line_1 = json.dumps(assistant("msg_1", "req_1", HAIKU, (1, 2, 3, 4))) + "\n"
    line_2 = json.dumps(assistant("msg_2", "req_2", HAIKU, (1, 1, 1, 1))) + "\n"
    path.write_text(line_1 + line_2[:30])
    cache = TranscriptCache()
    first = cache.read_if_changed(str(path))
    assert first is not None and list(first.usage) == [("msg_1", "req_1")]
    cache.discard()  # the transaction rolled back: the same lines come again
    again = cache.read_if_changed(str(path))
    assert again is not None and list(again.usage) == [("msg_1", "req_1")]
    cache.commit()
    assert cache.read_if_changed(str(path)) is None
    with path.open("a") as transcript:
        transcript.write(line_2[30:])
    grown = cache.read_if_changed(str(path))
    assert grown is not None and list(grown.usage) == [("msg_2", "req_2")]
    cache.commit()
    replacement = tmp_path / "replacement.jsonl"
    replacement.write_text(line_2 + line_1)
    replacement.replace(path)  # a new file under the old name: read from its start
    whole = cache.read_if_changed(str(path))
    assert whole is not None and sorted(whole.usage) == [("msg_1", "req_1"), ("msg_2", "req_2")]
    assert cache.read_if_changed(str(tmp_path / "missing.jsonl")) is None


def test_a_cost_state_seen_only_in_an_appended_part_still_counts(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "main.jsonl", [assistant("msg_1", "req_1", HAIKU, (1_000_000, 0, 0, 0))])
    ingest_session(settings, engine, path)
    assert (session_row(engine).cost_source, session_row(engine).cost_usd) == ("computed", pytest.approx(1.0))
    with path.open("a") as transcript:
        transcript.write(json.dumps(cost_state(0.9)) + "\n")
    spool_event(settings.spool_dir, hook("SessionEnd", transcript_path=str(path), reason="other"), at=T0 + 300)
    assert ingest_spool(engine, Spool(settings.spool_dir)).error is None
    assert (session_row(engine).cost_source, session_row(engine).cost_usd) == ("claude_code", 0.9)


def test_a_recent_sessions_transcript_is_read_again_even_without_new_events(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "main.jsonl", [assistant("msg_1", "req_1", HAIKU, (1_000_000, 0, 0, 0))])
    spool_event(settings.spool_dir, hook("Stop", transcript_path=str(path)))  # received now
    cache = TranscriptCache()
    assert ingest_spool(engine, Spool(settings.spool_dir), cache=cache).ingested == 1
    assert session_row(engine).cost_usd == pytest.approx(1.0)
    with path.open("a") as transcript:  # Claude Code writes on; no hook fires
        transcript.write(json.dumps(assistant("msg_2", "req_2", HAIKU, (0, 1_000_000, 0, 0))) + "\n")
        transcript.write(json.dumps(cost_state(6.5)) + "\n")
    report = ingest_spool(engine, Spool(settings.spool_dir), cache=cache)
    assert (report.ingested, report.error) == (0, None)
    session = session_row(engine)
    assert (session.cost_usd, session.cost_source) == (6.5, "claude_code")
    with Session(engine) as db:
        assert len(db.exec(select(ModelUsage)).all()) == 2
