"""The model calls of one consensus run: :class:`~server.engine.runs.calls.RunCalls` (cost cap, budgets,
``try_model``, recording), each call's ``delegation`` row linked to the run by ``consensus_run_id``."""

from __future__ import annotations

from server.engine.records import Attempt, delegation_row
from server.engine.runs.calls import RunCalls
from server.engine.runs.ledger import RunLedger
from server.engine.runtime import Runtime
from server.store.models import Delegation

__all__ = ["ConsensusCalls"]


class ConsensusCalls(RunCalls):
    """Calls of run ``ledger.run_id``: ``members`` member slots, then the judge's (and the grouping model's).

    ``task_type`` is the question's task type, on every row (None: not known).
    """

    def __init__(
        self,
        runtime: Runtime,
        ledger: RunLedger,
        max_cost_usd: float | None,
        members: int,
        task_type: str | None = None,
    ) -> None:
        super().__init__(runtime, ledger, max_cost_usd, tool="consensus")
        self.members = members
        self.task_type = task_type

    def _row(self, slot: int, attempt: Attempt, role: str | None) -> Delegation:
        return delegation_row(
            attempt,
            index=slot,
            request_id=self.ledger.run_id,
            session_id=self.runtime.session_id,
            task_type=self.task_type,
            role=role or ("judge" if slot >= self.members else "member"),
            consensus_run_id=self.ledger.run_id,
        )
