"""Writing a run down even when it is cancelled: the calls it made happened and may have cost money."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Literal, TypeVar

import anyio
from sqlmodel import SQLModel

from server.engine.runs.calls import RunCalls

__all__ = ["Ended", "run_recorded"]

R = TypeVar("R")

Ended = Literal["ok", "error", "cancelled"]
"""How the run ended: ``ok`` with a result, ``error`` when it raised, ``cancelled`` by the client."""


async def run_recorded(
    calls: RunCalls,
    execute: Callable[[], Awaitable[R]],
    rows: Callable[[R | None, Ended], Sequence[SQLModel]],
    *,
    on_cancel: Callable[[], None] | None = None,
) -> R:
    """``await execute()`` and record the run's ``rows(result, ended)`` however it ends, settling its reservation.

    ``result`` is None unless the run returned one. ``on_cancel`` runs first when the client cancels (e.g. to
    mark what was still running as cancelled); the cancellation is then re-raised, and so is any error.
    """
    result: R | None = None
    ended: Ended = "error"
    try:
        result = await execute()
        ended = "ok"
        return result
    except anyio.get_cancelled_exc_class():
        ended = "cancelled"
        if on_cancel is not None:
            on_cancel()
        raise
    finally:
        # Recorded even when the client cancelled the call: the calls happened and may have cost money.
        settle = [calls.reservation] if calls.reservation else []
        calls.runtime.record(list(rows(result, ended)), settle=settle)
