"""How one call of a run ended, and why a run is cancelling its calls: shared by ``consensus`` and ``solve``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MemberOutcome", "StopSignal"]


@dataclass
class MemberOutcome:
    """How one member's call ended."""

    status: str
    """``ok``, ``cancelled``, ``skipped``, ``rejected`` (answered, but failed the check) or an error class."""
    text: str | None = None
    error: str | None = None
    latency_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    priced: bool = True
    truncated: bool = False
    """The provider stopped the answer at its output-token limit."""
    output_id: str | None = None
    """The delegation's stored full answer, when the call stored one."""

    @property
    def answered(self) -> bool:
        return self.status == "ok" and self.text is not None


@dataclass
class StopSignal:
    """Why running members are being cancelled; a :data:`CallMember` reads it to record the right status."""

    reason: Literal["cancelled", "timeout", "deadline"] | None = None
    """``timeout``: the run's own deadline (the model was too slow); ``deadline``: the client's tool timeout (not
    the model's failure); ``cancelled``: the result was settled or the client cancelled."""
