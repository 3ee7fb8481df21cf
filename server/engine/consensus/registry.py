"""The strategy interface and its registry: a consensus strategy is one class, registered with :func:`strategy`.

A strategy says how members are ordered and scheduled, when a run is settled (its stop rule) and what the answer
is (its decision, which may ask the run for a judge's verdict). The run (:mod:`server.engine.consensus.run`)
looks the strategy up by name and never branches on it; the tool's ``strategy`` argument lists the registry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from server.engine.consensus.agreement import Grouping
from server.engine.consensus.judge import JudgeVerdict
from server.engine.consensus.members import MemberOutcome, ShouldStop

__all__ = [
    "STRATEGIES",
    "ConsensusStrategy",
    "Decision",
    "RunContext",
    "known_strategy",
    "strategy",
    "strategy_help",
    "strategy_schema",
]


@dataclass
class Decision:
    """A strategy's answer: the final text, whose it is, and how far the others agreed."""

    final: str | None
    chosen: int | None = None
    """The member index whose answer won; None for a judge's synthesis or no answer."""
    agreement: float | None = None
    dissent: str = ""
    groups: dict[int, int] = field(default_factory=dict[int, int])
    scores: dict[int, float] = field(default_factory=dict[int, float])
    notes: list[str] = field(default_factory=list[str])


class RunContext(Protocol):
    """What a strategy may ask of the run deciding with it."""

    async def ask_judge(self, answers: list[str]) -> JudgeVerdict | str:
        """The judge's verdict on ``answers`` (anonymised), or why there is none."""
        ...

    async def group_answers(self, answers: list[str | None]) -> Grouping:
        """``answers`` grouped by meaning: by form, then by one grouping model's call when long answers differ;
        unmeasured (with why) when no such model can say."""
        ...


class ConsensusStrategy(ABC):
    """One way to combine members' answers."""

    name: ClassVar[str]
    summary: ClassVar[str]
    """One clause for the tool's description, e.g. ``"fastest: first good answer wins"``."""
    sequential: ClassVar[bool] = False
    """Start the next member only when the previous one ended (the order is :meth:`order`'s)."""
    judged: ClassVar[bool] = False
    """A judge's call follows the members: one more progress step, a share of the client's time, and the dearest
    member's worst case again in the budget reservation."""

    def order(self, prices: Sequence[float | None]) -> list[int]:
        """The order to seat members in, given each one's worst-case price (None: unknown); default: as given."""
        return list(range(len(prices)))

    @abstractmethod
    def stop_rule(self, members: int) -> ShouldStop:
        """When a run of ``members`` is settled: the members still running are then cancelled."""

    @abstractmethod
    async def decide(
        self, outcomes: Sequence[MemberOutcome], labels: Sequence[str], finish_order: Sequence[int], run: RunContext
    ) -> Decision:
        """The run's answer from its members' outcomes."""


STRATEGIES: dict[str, ConsensusStrategy] = {}
"""Every registered strategy by name, in registration order."""

S = TypeVar("S", bound=ConsensusStrategy)


def strategy(cls: type[S]) -> type[S]:
    """Class decorator: register ``cls`` under ``cls.name``."""
    STRATEGIES[cls.name] = cls()
    return cls


def known_strategy(name: str) -> str:
    """``name`` if a strategy is registered under it (a pydantic validator for the tool's argument)."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; one of: {', '.join(STRATEGIES)}")
    return name


def strategy_schema() -> dict[str, Any]:
    """The JSON schema of a strategy name: a string, one of the registered names."""
    return {"type": "string", "enum": list(STRATEGIES)}


def strategy_help() -> str:
    """Each registered strategy's summary, for the tool's description."""
    return "; ".join(s.summary for s in STRATEGIES.values()) + "."
