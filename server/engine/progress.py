"""What an engine reports progress to: the tool's ``ctx.report_progress`` (done, total if known, message)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

__all__ = ["Progress"]

Progress = Callable[[float, float | None, str], Awaitable[None]]
"""``progress(done, total, message)``; ``total`` None when the number of steps is not known ahead."""
