"""Counts in sentences: ``1 session``, ``2 sessions``."""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` and ``noun``, or ``nouns`` (default ``noun + "s"``) unless the count is one."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"
