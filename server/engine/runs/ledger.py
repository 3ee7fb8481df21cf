"""The rows of one run of ``consensus`` or ``solve``, collected as its calls end and written at once.

A run is one run row (``consensus_run``, ``solve_run``), one ``delegation`` row per call, a $0 ``delegation`` row
per call refused before it started (budget, cost cap), and ``stored_output`` rows: a consensus run's final answer
and each member answer cut for the client, a solve run's node answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import SQLModel

from server.engine.output import stored_output
from server.store.models import Delegation

__all__ = ["RunLedger", "sum_costs"]


def sum_costs(costs: Sequence[float | None]) -> tuple[float | None, float]:
    """The total of the calls made (None when any one's cost is unknown) and the known part of it."""
    known = sum(cost for cost in costs if cost is not None)
    return (None if any(cost is None for cost in costs) else known), known


@dataclass
class RunLedger:
    """The rows of one run, collected as calls end and written in one transaction at the end.

    Collecting first lets a cut member answer's stored copy be named on its delegation row, and a run
    cancelled by the client still writes what it did (the caller writes in a ``finally``).
    """

    run_id: str
    session_id: str | None
    project_dir: str | None = None
    rows: list[SQLModel] = field(default_factory=list[SQLModel])
    delegations: dict[int, Delegation] = field(default_factory=dict[int, Delegation])

    def add_call(self, slot: int, row: Delegation) -> None:
        """Keep the delegation row of call ``slot`` (a member index, or the judge's slot after them)."""
        self.delegations[slot] = row

    def add_refusal(self, row: Delegation) -> None:
        """Keep the $0 row of a call refused before it started: written with the run, but not one of its calls
        (not in :meth:`costs`, the run's call count or its quality signals)."""
        self.rows.append(row)

    def store_full(self, slot: int | None, text: str, kind: str, output_id: str | None = None) -> str:
        """Keep ``text`` as a stored output; link it from the delegation row of ``slot``; return its id."""
        row = stored_output(text, self.session_id, kind=kind, project_dir=self.project_dir)
        if output_id is not None:
            row.id = output_id
        self.rows.append(row)
        if slot is not None and slot in self.delegations:
            self.delegations[slot].output_id = row.id
        return row.id

    def note_quality(self, groups: dict[int, int], scores: dict[int, float]) -> None:
        """Set each member's quality signal for learned routing: the judge's score / 10, else 1 for being in the
        largest group of agreeing answers and 0 for not; nothing when fewer than two answers could be compared."""
        if len(groups) < 2 and not scores:
            return
        for slot, row in self.delegations.items():
            if slot in scores:
                row.quality = min(max(scores[slot] / 10, 0.0), 1.0)
            elif slot in groups:
                row.quality = 1.0 if groups[slot] == 0 else 0.0

    def costs(self) -> tuple[float | None, float]:
        """:func:`sum_costs` of every call recorded so far, cancelled ones included (their cost is unknown)."""
        return sum_costs([row.cost_usd for row in self.delegations.values()])

    def rows_with(self, run: SQLModel) -> list[SQLModel]:
        """Every row of the run, its run row first."""
        return [run, *self.delegations.values(), *self.rows]
