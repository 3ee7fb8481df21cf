"""``totalCostUSD`` that is not finite or is negative is never a session's cost of record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server.settings import Settings
from tests.server.store.test_transcripts import HAIKU, assistant, cost_state, ingest_session, session_row

RAW_TOTALS = ["NaN", "Infinity", "-Infinity", "1e999", "-0.5"]


@pytest.mark.parametrize("total", RAW_TOTALS)
def test_a_cost_state_that_is_not_a_finite_non_negative_number_is_not_the_cost_of_record(
    settings: Settings, engine: Engine, tmp_path: Path, total: str
) -> None:
    lines = [json.dumps(assistant("msg_1", "req_1", HAIKU, (1_000_000, 0, 0, 0))), json.dumps(cost_state(0.5))]
    # Written as Claude Code's JSON would carry it; Python's json.loads reads every one of these as a float.
    lines.append(json.dumps(cost_state(1.0)).replace("1.0", total))
    transcript = tmp_path / "main.jsonl"
    transcript.write_text("\n".join(lines) + "\n")
    ingest_session(settings, engine, transcript)
    session = session_row(engine)
    assert session.cost_source == "computed" and session.cost_usd == pytest.approx(1.0)
