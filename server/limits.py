"""Bounds on what a caller may ask analytics for; light (no SQLAlchemy, outside the analytics package), so the
``stats`` tool's schema can use them before anything heavy is loaded."""

from __future__ import annotations

__all__ = ["MAX_DAYS"]

MAX_DAYS = 36_500
"""The longest look-back anyone may ask for (a century). Beyond it ``now - timedelta(days)`` overflows ``datetime``:
``days=1e10`` was a 500 on the page and an OverflowError inside the ``stats`` tool; no store is that old."""
