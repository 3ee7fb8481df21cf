"""The running totals of one (task type, model) that learned routing reads: one type for the ``routing_stat``
columns, the increments rows add, and the learner's in-memory copy.

Light on purpose (standard library only): :mod:`server.routing.learn` imports it before the MCP server answers
``initialize``, when neither SQLAlchemy nor the store's models may be loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

__all__ = ["COUNTERS", "Evidence"]


@dataclass(frozen=True)
class Evidence:
    """The running totals of one (task type, model), as stored in ``routing_stat``."""

    calls: int = 0
    successes: int = 0
    latency_ms_sum: float = 0.0
    latency_n: int = 0
    cost_usd_sum: float = 0.0
    cost_n: int = 0
    quality_sum: float = 0.0
    quality_n: int = 0
    last_at: datetime | None = None

    @classmethod
    def of(cls, row: Any) -> Evidence:
        """The totals of anything with these nine attributes (a ``routing_stat`` row): the one conversion."""
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})

    def __add__(self, other: Evidence) -> Evidence:
        """Both totals together; ``last_at`` the later of the two."""
        summed = {name: getattr(self, name) + getattr(other, name) for name in COUNTERS}
        latest = max((t for t in (self.last_at, other.last_at) if t is not None), default=None)
        return Evidence(**summed, last_at=latest)

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.calls if self.calls else None

    @property
    def quality(self) -> float | None:
        return self.quality_sum / self.quality_n if self.quality_n else None

    @property
    def latency_ms(self) -> float | None:
        return self.latency_ms_sum / self.latency_n if self.latency_n else None

    @property
    def cost_usd(self) -> float | None:
        """Mean cost of a priced answer; None when no answer was priced (unknown, never $0)."""
        return self.cost_usd_sum / self.cost_n if self.cost_n else None

    @property
    def empty(self) -> bool:
        return self.calls == 0 and self.quality_n == 0


COUNTERS: tuple[str, ...] = tuple(f.name for f in fields(Evidence) if f.name != "last_at")
"""The eight columns that only ever add up (``routing_stat`` updates them as ``column + n``)."""
