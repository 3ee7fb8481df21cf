"""A generated projects folder imported twice, then after appending to, truncating and rewriting transcripts:
token and cost totals equal a list-price recomputation from the files every time (issue 22, items 1 and 3).

Rows are never deleted: a transcript cut shorter keeps the usage already counted (the requests were made and
paid for); what is read again from its start adds nothing twice.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from server.store.importer import import_transcripts
from server.store.models import AgentSession, ModelUsage, TranscriptMark
from tests.fakes.projects_folder import list_price, transcripts, usage_lines, write_projects, write_session


def stored(engine: Engine) -> tuple[float, dict[str, int], int]:
    with Session(engine) as db:
        row = db.exec(
            select(
                func.sum(ModelUsage.cost_usd),
                func.sum(ModelUsage.input_tokens),
                func.sum(ModelUsage.output_tokens),
                func.sum(ModelUsage.cache_read_tokens),
                func.sum(ModelUsage.cache_creation_tokens),
                func.sum(ModelUsage.cache_creation_1h_tokens),
                func.count(col(ModelUsage.id)),
            )
        ).one()
    keys = ["input", "output", "cache_read", "cache_write", "cache_write_1h"]
    return float(row[0]), dict(zip(keys, (int(v) for v in row[1:6]), strict=True)), int(row[6])


def assert_totals(engine: Engine, expected_cost: float, expected: dict[str, int], responses: int) -> None:
    cost, totals, rows = stored(engine)
    assert totals == expected
    assert rows == responses
    assert cost == pytest.approx(expected_cost, rel=1e-9)


def union(*roots: Path) -> tuple[float, dict[str, int], int]:
    """The list price and totals of every response seen in any of these copies of the folder."""
    seen: dict[tuple[str, str], tuple[str, dict[str, object]]] = {}
    for root in roots:
        seen.update(usage_lines(root))
    scratch = roots[0].parent / "union"
    scratch.mkdir()
    out = scratch / "all.jsonl"

    with out.open("wb") as lines:
        for (message_id, request_id), (model, usage) in seen.items():
            record = {"requestId": request_id, "message": {"id": message_id, "model": model, "usage": usage}}
            lines.write(orjson.dumps(record) + b"\n")
    cost, totals = list_price(scratch)
    shutil.rmtree(scratch)
    return cost, totals, len(seen)


def test_a_generated_folder_costs_its_list_price_and_a_second_import_reads_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    root = tmp_path / "projects"
    write_projects(root, sessions=8, turns=30)
    cost, totals = list_price(root)
    assert totals["cache_write_1h"] > 0
    import_transcripts(engine, root)
    assert_totals(engine, cost, totals, len(usage_lines(root)))
    with Session(engine) as db:
        marks = {m.path: m.offset for m in db.exec(select(TranscriptMark))}
        costs = [s.cost_usd for s in db.exec(select(AgentSession))]
    assert marks == {str(path): path.stat().st_size for path in transcripts(root)}
    assert sum(c or 0 for c in costs) == pytest.approx(cost, rel=1e-9)
    report = import_transcripts(engine, root)
    assert (report.sessions, report.new_sessions) == (8, 0)
    assert_totals(engine, cost, totals, len(usage_lines(root)))


def test_an_appended_transcript_is_read_from_its_offset(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write_projects(root, sessions=2, turns=10)
    import_transcripts(engine, root)
    path = next(p for p in transcripts(root) if "subagents" not in str(p))
    before = path.read_bytes()
    # Change a digit already read (same size, same inode): only a read from the start would see it.
    index = before.index(b'"output_tokens":') + len(b'"output_tokens":')
    digit = before[index : index + 1]
    changed = before[:index] + (b"1" if digit != b"1" else b"2") + before[index + 1 :]
    extra = tmp_path / "extra"
    write_projects(extra, sessions=1, turns=5, seed=7)
    appended = next(p for p in transcripts(extra) if "subagents" not in str(p)).read_bytes()
    with path.open("r+b") as out:
        out.write(changed)
        out.write(appended)
    import_transcripts(engine, root)
    # The changed line still counts as first read; the appended lines count.
    path.write_bytes(before + appended)
    expected_cost, expected = list_price(root)
    responses = len(usage_lines(root))
    assert_totals(engine, expected_cost, expected, responses)


def test_a_truncated_or_rewritten_transcript_is_read_again_from_its_start_without_double_counting(
    engine: Engine, tmp_path: Path
) -> None:
    root = tmp_path / "projects"
    write_projects(root, sessions=3, turns=20)
    original = tmp_path / "original"
    shutil.copytree(root, original)
    import_transcripts(engine, root)
    mains = [p for p in transcripts(root) if "subagents" not in str(p)]
    # Truncated: cut to its first third, then a new request appended (smaller than the offset read).
    cut = mains[0].read_bytes()
    cut = cut[: cut.index(b"\n", len(cut) // 3) + 1]
    new = tmp_path / "new"
    new.mkdir()
    write_session(new, random.Random(5), 0, 3)
    appended = next(new.glob("*.jsonl")).read_bytes()
    with mains[0].open("r+b") as out:
        out.truncate(0)
        out.write(cut + appended)
    # Rewritten: the same content and one more request in a new file (another inode) at the same path.
    rewritten = mains[1].with_suffix(".tmp")
    rewritten.write_bytes(mains[1].read_bytes() + appended)
    os.replace(rewritten, mains[1])
    import_transcripts(engine, root)
    expected_cost, expected, responses = union(original, root)
    assert_totals(engine, expected_cost, expected, responses)
    import_transcripts(engine, root)
    assert_totals(engine, expected_cost, expected, responses)
