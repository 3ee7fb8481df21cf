"""Transcripts parsed in a worker process (ReadAhead) store exactly what a read in the importing process stores,
and anything the worker cannot vouch for (a file changed since it was planned, a dead worker) is read here."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine

from server.store import read_ahead as read_ahead_module
from server.store.importer import import_transcripts
from server.store.read_ahead import ReadAhead
from server.store.transcripts import (
    Transcript,
    TranscriptCache,
    pack,
    parse_transcript,
    price_usage,
    read_transcript,
    read_transcripts,
    unpack,
)
from tests.fakes.projects_folder import list_price, transcripts, usage_lines, write_projects, write_session
from tests.server.store.test_import_rereads import assert_totals

_T = TypeVar("_T")


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


@pytest.mark.parametrize("window", [1, 3])
def test_the_worker_holds_at_most_window_chunks_whose_reads_are_not_all_taken(
    engine: Engine, tmp_path: Path, window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_ahead_module, "CHUNK_READS", 2)
    root = tmp_path / "projects"
    write_projects(root, sessions=6, turns=4, seed=window)
    cost, totals = list_price(root)
    chunks: list[set[str]] = []
    taken: set[str] = set()
    out_at_submit: list[int] = []

    class Recording(ThreadPoolExecutor):  # the same reads, in a thread, each chunk seen as it is handed over
        def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
            if fn is read_transcripts:
                out_at_submit.append(sum(1 for chunk in chunks if chunk - taken))
                chunks.append({path for path, _agent_id, _offset in args[0]})
            return super().submit(fn, *args, **kwargs)

    class Counting(ReadAhead):
        def take(self, path: str, agent_id: str | None, info: os.stat_result, offset: int) -> Any:
            taken.add(path)
            return super().take(path, agent_id, info, offset)

    with Recording(max_workers=1) as executor, Counting(window=window, executor=executor) as read_ahead:
        import_transcripts(engine, root, read_ahead=read_ahead)
        assert read_ahead.taken == len(list(transcripts(root)))
    assert len(chunks) > window and max(out_at_submit) == window - 1
    assert_totals(engine, cost, totals, len(usage_lines(root)))


def test_a_new_plan_keeps_the_reads_already_handed_over_that_it_has_too(tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write_projects(root, sessions=6, turns=6, seed=11)
    reads: list[tuple[str, str | None]] = []
    reads.extend((str(path), None) for path in list(transcripts(root))[:5])
    assert len(reads) == 5
    submitted: list[list[str]] = []

    class Recording(ThreadPoolExecutor):
        def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
            if fn is read_transcripts:
                submitted.append([path for path, _agent_id, _offset in args[0]])
            return super().submit(fn, *args, **kwargs)

    cache = TranscriptCache()
    with Recording(max_workers=1) as executor, ReadAhead(executor=executor) as read_ahead:
        cache.read_ahead = read_ahead
        read_ahead.plan(cache, reads[:3])
        read_ahead.plan(cache, reads[1:])  # the first read dropped, two kept, two new
        assert submitted == [[path for path, _ in reads[:3]], [path for path, _ in reads[3:]]]
        for path, agent_id in reads[1:]:
            got = cache.read_if_changed(path, agent_id)
            assert got == _priced_here(parse_transcript(Path(path), agent_id)[0])
        assert read_ahead.taken == 4
        assert cache.read_if_changed(reads[0][0]) is not None and read_ahead.taken == 4  # read here
