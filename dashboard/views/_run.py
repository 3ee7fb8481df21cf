"""Running a view's blocking queries off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from sqlalchemy import Engine
from sqlmodel import Session

__all__ = ["compute"]

T = TypeVar("T")


async def compute(engine: Engine, build: Callable[[Session], T]) -> T:
    """Run ``build`` with a database session in a worker thread (SQLAlchemy here is synchronous)."""

    def work() -> T:
        with Session(engine) as db:
            return build(db)

    return await anyio.to_thread.run_sync(work)
