"""Totals over what real ingest stored: usage repeated per content block counts once, the cost of record wins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from server.analytics import Window, sessions_summary
from server.pricing import cost_usd
from server.settings import Settings
from server.store.background import ingest_once
from tests.server.store.spool_support import hook, spool_event


def _assistant(message_id: str, request_id: str, model: str, block: str, **usage: int) -> dict[str, Any]:
    return {
        "type": "assistant",
        "requestId": request_id,
        "timestamp": "2026-11-01T12:00:00Z",
        "message": {"id": message_id, "model": model, "content": [{"type": "text", "text": block}], "usage": usage},
    }


def test_usage_repeated_per_content_block_is_counted_once_and_the_session_cost_is_claude_codes(
    tmp_path: Path, engine: Engine, settings: Settings
) -> None:
    first = {"input_tokens": 10, "output_tokens": 300, "cache_read_input_tokens": 5000}
    second = {"input_tokens": 4, "output_tokens": 120, "cache_creation_input_tokens": 700}
    lines = [
        _assistant("msg_1", "req_1", "claude-sonnet-4-5", "thinking", **first),
        _assistant("msg_1", "req_1", "claude-sonnet-4-5", "text", **first),
        _assistant("msg_1", "req_1", "claude-sonnet-4-5", "tool_use", **first),
        _assistant("msg_2", "req_2", "claude-sonnet-4-5", "text", **second),
        _assistant("msg_2", "req_2", "claude-sonnet-4-5", "text", **second),
        {"type": "cost-state", "totalCostUSD": 0.123456},
    ]
    transcript = tmp_path / "s.jsonl"
    transcript.write_text("".join(json.dumps(line) + "\n" for line in lines))
    spool_event(settings.spool_dir, hook("SessionStart", "s-dup", transcript_path=str(transcript), source="startup"))
    spool_event(settings.spool_dir, hook("Stop", "s-dup", transcript_path=str(transcript)))
    assert ingest_once(settings, engine).error is None
    with Session(engine) as db:
        summary = sessions_summary(db, Window())
    (sonnet,) = summary.by_model
    assert sonnet.responses == 2
    assert (sonnet.input_tokens, sonnet.output_tokens) == (14, 420)
    assert (sonnet.cache_read_tokens, sonnet.cache_creation_tokens) == (5000, 700)
    expected = (cost_usd("claude-sonnet-4-5", input_tokens=10, output_tokens=300, cache_read_tokens=5000) or 0) + (
        cost_usd("claude-sonnet-4-5", input_tokens=4, output_tokens=120, cache_write_tokens=700) or 0
    )
    assert sonnet.cost_usd == pytest.approx(expected)
    assert summary.cost_usd == pytest.approx(0.123456)
