"""Transcripts parsed in a worker process (ReadAhead) store exactly what a read in the importing process stores,
and anything the worker cannot vouch for (a file changed since it was planned, a dead worker) is read here."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server.store.importer import import_transcripts
from server.store.read_ahead import ReadAhead
from server.store.transcripts import (
    Transcript,
    TranscriptCache,
    pack,
    parse_transcript,
    price_usage,
    read_transcript,
    unpack,
)
from tests.fakes.projects_folder import list_price, transcripts, usage_lines, write_projects, write_session
from tests.server.store.test_import_rereads import assert_totals


def _priced_here(transcript: Transcript) -> Transcript:
    """The transcript as the importing process uses it: every line priced."""
    usage = {key: line._replace(priced=True, cost_usd=price_usage(line)) for key, line in transcript.usage.items()}
    last = transcript.last_main_usage
    priced_last = None if last is None else last._replace(priced=True, cost_usd=price_usage(last))
    return Transcript(usage, transcript.total_cost_usd, transcript.cost_state_seen, priced_last, transcript.more,
                      transcript.skipped)  # fmt: skip


def test_a_worker_s_read_unpacks_to_the_read_made_here(tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write_projects(root, sessions=4, turns=25)
    for path in transcripts(root):
        agent_id = path.stem.removeprefix("agent-") if "subagents" in path.parts else None
        here, end_here = parse_transcript(path, agent_id, 0)
        packed, end = read_transcript(str(path), agent_id, 0)
        there = unpack(packed)
        assert end == end_here == path.stat().st_size
        assert len(there.usage) > 0
        assert list(there.usage) == list(here.usage)  # the same order: the last line of a response wins
        expected = _priced_here(here)
        assert there.usage == expected.usage
        assert there.last_main_usage == expected.last_main_usage
        assert (there.total_cost_usd, there.cost_state_seen, there.more, there.skipped) == (
            here.total_cost_usd,
            here.cost_state_seen,
            here.more,
            here.skipped,
        )
        assert unpack(pack(there)).usage == there.usage


def test_an_import_takes_every_read_from_the_worker_and_stores_the_list_price(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write_projects(root, sessions=6, turns=20)
    cost, totals = list_price(root)
    with ReadAhead() as read_ahead:
        import_transcripts(engine, root, read_ahead=read_ahead)
        assert read_ahead.taken == len(list(transcripts(root)))
        assert_totals(engine, cost, totals, len(usage_lines(root)))
        import_transcripts(engine, root, read_ahead=read_ahead)  # nothing new: nothing handed to the worker
        assert read_ahead.taken == len(list(transcripts(root)))
    assert_totals(engine, cost, totals, len(usage_lines(root)))


def test_a_transcript_appended_to_after_it_was_planned_is_read_here_whole(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    write_session(folder, random.Random(3), 0, 6)
    path = next(folder.glob("*.jsonl"))
    extra = tmp_path / "extra"
    extra.mkdir()
    write_session(extra, random.Random(4), 0, 4)
    appended = next(extra.glob("*.jsonl")).read_bytes()
    cache = TranscriptCache()
    with ReadAhead() as read_ahead:
        cache.read_ahead = read_ahead
        read_ahead.plan(cache, [(str(path), None)])
        with path.open("ab") as out:  # Claude Code writes on between the plan and the read
            out.write(appended)
        got = cache.read_if_changed(str(path))
        assert read_ahead.taken == 0
    whole, _ = parse_transcript(path)
    assert got is not None
    assert got.usage.keys() == whole.usage.keys()
    assert cache.staged()[str(path)].offset == path.stat().st_size


def test_a_worker_killed_mid_import_leaves_the_reads_to_this_process(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write_projects(root, sessions=5, turns=15)
    cost, totals = list_price(root)
    executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        worker = executor.submit(os.getpid).result(timeout=60)
        os.kill(worker, signal.SIGKILL)
        with ReadAhead(executor=executor) as read_ahead:
            import_transcripts(engine, root, read_ahead=read_ahead)
            assert read_ahead.taken == 0
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    assert_totals(engine, cost, totals, len(usage_lines(root)))


@pytest.mark.parametrize("window", [1, 3])
def test_any_window_stores_the_same_rows(engine: Engine, tmp_path: Path, window: int) -> None:
    root = tmp_path / "projects"
    write_projects(root, sessions=4, turns=12, seed=window)
    cost, totals = list_price(root)
    with ReadAhead(window=window) as read_ahead:
        import_transcripts(engine, root, read_ahead=read_ahead)
        assert read_ahead.taken == len(list(transcripts(root)))
    assert_totals(engine, cost, totals, len(usage_lines(root)))
