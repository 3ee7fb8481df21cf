"""The one cost cap of a run (``consensus``, ``solve``): a call starts only if its worst case fits in what is left.

Members start at the same moment, before any has a bill, so each reserves its worst case (its input plus its
whole output allowance at the model's price); when it ends, the reservation becomes its real cost. A call
that was cancelled keeps its reservation, as the provider may still charge for the tokens it produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CostCap"]

_EPSILON = 1e-12


@dataclass
class CostCap:
    """Reservations against ``cap_usd`` (None: no cap, everything is admitted but still counted).

    A model with no known price cannot be bounded; it is admitted and named in ``unbounded``, so the result
    can say the cap did not cover it.
    """

    cap_usd: float | None
    committed_usd: float = 0.0
    unbounded: list[str] = field(default_factory=list[str])
    _reserved: dict[int, float] = field(default_factory=dict[int, float])

    def admit(self, slot: int, model: str, worst_case_usd: float | None) -> str | None:
        """Reserve ``worst_case_usd`` for call ``slot``; a reason when it does not fit, else None."""
        if worst_case_usd is None:
            if self.cap_usd is not None:
                self.unbounded.append(model)
            return None
        left = float("inf") if self.cap_usd is None else self.cap_usd - self.committed_usd
        if worst_case_usd > left + _EPSILON:
            return (
                f"cost cap: up to ${worst_case_usd:.6f} for {model} would exceed the ${left:.6f} left "
                f"of ${self.cap_usd:g}"
            )
        self.committed_usd += worst_case_usd
        self._reserved[slot] = worst_case_usd
        return None

    def settle(self, slot: int, actual_usd: float | None) -> None:
        """Replace call ``slot``'s reservation by what it cost (None: unknown, the reservation stays)."""
        reserved = self._reserved.pop(slot, None)
        if reserved is None or actual_usd is None:
            return
        self.committed_usd += actual_usd - reserved
