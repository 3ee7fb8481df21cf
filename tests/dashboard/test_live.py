"""Live updates: the store's high-water marks, and the /events SSE stream over a real uvicorn."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from dashboard.live import StoreWatcher, store_marks, topics_changed
from server.store.database import make_engine
from server.store.models import Delegation, ProviderEvent
from tests.dashboard.conftest import LiveServer

WAIT_S = 10.0


def test_marks_of_an_empty_store_are_blank(engine: Engine) -> None:
    assert set(store_marks(engine).values()) == {""}


def test_a_new_delegation_moves_its_mark_and_names_the_pages_to_refresh(seeded: Engine) -> None:
    before = store_marks(seeded)
    with Session(seeded) as db:
        db.add(Delegation(request_id="r-new", provider="openai", model="gpt-4o-mini", status="ok"))
        db.commit()
    after = store_marks(seeded)
    assert after["delegation"] != before["delegation"]
    assert topics_changed(before, after) == [
        "delegations",
        "overview",
        "patterns",
        "providers",
        "routing",
        "sessions",
        "team",
    ]


def test_unchanged_marks_name_no_topic(seeded: Engine) -> None:
    marks = store_marks(seeded)
    assert topics_changed(marks, dict(marks)) == []


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, object]]]:
    """(event, data) pairs from an SSE response; comments (heartbeats) are skipped."""
    event, data = "message", ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and data:
            yield event, json.loads(data)
            event, data = "message", ""


def test_events_stream_says_hello_then_reports_a_provider_event_as_it_lands(live_server: LiveServer) -> None:
    received: queue.Queue[tuple[str, dict[str, object]]] = queue.Queue()

    def listen(client: httpx.Client) -> None:
        try:
            with client.stream("GET", f"{live_server.url}/events", headers=live_server.auth) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                for item in sse_events(response):
                    received.put(item)
        except httpx.HTTPError:
            pass  # the test closed the client: the stream ends

    with httpx.Client(timeout=httpx.Timeout(WAIT_S, read=None)) as client:
        thread = threading.Thread(target=listen, args=(client,), daemon=True)
        thread.start()
        event, _ = received.get(timeout=WAIT_S)
        assert event == "hello"
        with Session(live_server.engine) as db:
            db.add(ProviderEvent(provider="groq", event="breaker_closed"))
            db.commit()
        event, data = received.get(timeout=WAIT_S)
        assert event == "change"
        assert "providers" in data["topics"]  # type: ignore[operator]
        client.close()
    thread.join(timeout=WAIT_S)


@pytest.mark.anyio
async def test_an_announced_topic_reaches_listeners_as_a_change(seeded: Engine) -> None:
    watcher = StoreWatcher(seeded, interval_s=60)
    frames = watcher.listen()
    frame = ""
    with anyio.fail_after(WAIT_S):
        assert (await anext(frames)).startswith("event: hello")
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: _announce_soon(watcher))
            frame = await anext(frames)
    assert frame == 'event: change\ndata: {"topics":["overview"]}\n\n'
    await frames.aclose()


async def _announce_soon(watcher: StoreWatcher) -> None:
    await anyio.lowlevel.checkpoint()
    watcher.announce("overview")


@pytest.mark.anyio
async def test_a_store_that_does_not_answer_is_logged_once_and_the_stream_still_opens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = make_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")  # never migrated: every poll fails
    watcher = StoreWatcher(broken, interval_s=0.005)
    frames = watcher.listen()
    try:
        with anyio.fail_after(WAIT_S):
            assert (await anext(frames)).startswith("event: hello")
            with caplog.at_level(logging.WARNING, logger="dashboard.live"), anyio.move_on_after(0.5):
                await watcher.run()
        assert watcher.failed_polls >= 2
        assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
    finally:
        await frames.aclose()
        broken.dispose()
