"""The view cache: one computation per store change, and stale-while-revalidate once the app runs."""

from __future__ import annotations

from collections.abc import Hashable

import anyio
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from dashboard.cache import ViewCache
from server.store.models import Prompt, utcnow
from tests.dashboard.seed import SESSION_A

pytestmark = pytest.mark.anyio

WAIT_S = 10.0


def count_prompts(db: Session) -> int:
    return db.exec(select(func.count()).select_from(Prompt)).one()


def add_prompt(engine: Engine, event_id: str) -> None:
    with Session(engine) as db:
        db.add(Prompt(event_id=event_id, session_id=SESSION_A, text="more", created_at=utcnow()))
        db.commit()


async def test_a_view_is_computed_once_until_the_store_changes(seeded: Engine) -> None:
    cache = ViewCache(seeded)
    assert await cache.get("prompts", count_prompts) == 2
    assert await cache.get("prompts", count_prompts) == 2
    assert cache.computed == 1
    add_prompt(seeded, "ev-a")
    assert await cache.get("prompts", count_prompts) == 3
    assert cache.computed == 2


async def test_concurrent_requests_for_one_view_share_one_computation(seeded: Engine) -> None:
    cache = ViewCache(seeded)
    results: list[int] = []

    async def ask() -> None:
        results.append(await cache.get("prompts", count_prompts))

    async with anyio.create_task_group() as tasks:
        for _ in range(5):
            tasks.start_soon(ask)
    assert results == [2] * 5
    assert cache.computed == 1


async def test_once_attached_an_outdated_view_is_served_at_once_and_rebuilt_in_the_background(
    seeded: Engine,
) -> None:
    refreshed: list[Hashable] = []
    done = anyio.Event()

    def on_refreshed(key: Hashable) -> None:
        refreshed.append(key)
        done.set()

    cache = ViewCache(seeded, on_refreshed=on_refreshed)
    with anyio.fail_after(WAIT_S):
        async with anyio.create_task_group() as tasks:
            cache.attach(tasks)
            assert await cache.get("prompts", count_prompts) == 2
            add_prompt(seeded, "ev-b")
            assert await cache.get("prompts", count_prompts) == 2  # stale, answered without waiting
            await done.wait()
            assert refreshed == ["prompts"]
            assert await cache.get("prompts", count_prompts) == 3
            assert cache.computed == 2
            cache.attach(None)


async def test_an_expired_view_is_rebuilt_even_if_the_store_is_unchanged(seeded: Engine) -> None:
    cache = ViewCache(seeded, max_age_s=0)
    await cache.get("prompts", count_prompts)
    await cache.get("prompts", count_prompts)
    assert cache.computed == 2
