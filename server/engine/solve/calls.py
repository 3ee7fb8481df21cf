"""The model calls of one ``solve`` run: the shared :class:`~server.engine.runs.calls.RunCalls` (cost cap,
budgets, ``try_model``, recording), with each call's ``delegation`` row linked to the node it served."""

from __future__ import annotations

from server.engine.records import Attempt, delegation_row
from server.engine.runs.calls import RunCalls
from server.engine.runs.ledger import RunLedger
from server.engine.runtime import Runtime
from server.engine.solve.search import Refused
from server.providers.base import CompletionRequest
from server.providers.registry import ModelInfo
from server.store.models import Delegation

__all__ = ["SolveCalls"]


class SolveCalls(RunCalls):
    """Calls of run ``ledger.run_id``; every slot belongs to one node, as its answer or its judge verdict."""

    def __init__(self, runtime: Runtime, ledger: RunLedger, max_cost_usd: float | None) -> None:
        super().__init__(runtime, ledger, max_cost_usd, tool="solve")
        self._slots = 0
        self._node_of: dict[int, tuple[str, str]] = {}
        self._made: dict[str, int] = {}

    def slot(self, node_id: str, role: str) -> int:
        """A new call slot for ``node_id``; ``role`` is ``solve`` (its answer) or ``solve_judge``."""
        slot = self._slots
        self._slots += 1
        self._node_of[slot] = (node_id, role)
        return slot

    def refusal(self, slot: int, info: ModelInfo, request: CompletionRequest) -> Refused | None:
        """Admit call ``slot`` (:meth:`admit`); why it may not start and under which kind (the search's stop reason:
        ``deadline``, ``cost_cap``, ``budget``), if it may not."""
        refused = self._refusal(slot, info, request)
        if refused is None:
            return None
        self.refuse(slot, info, *refused)
        return Refused(*refused)

    @property
    def made(self) -> int:
        """Calls made (recorded) so far, cancelled ones included; refused ones are not calls."""
        return sum(self._made.values())

    def made_for(self, node_id: str) -> int:
        return self._made.get(node_id, 0)

    def _row(self, slot: int, attempt: Attempt, role: str | None) -> Delegation:
        del role  # a solve call's role is its slot's
        node_id, role = self._node_of[slot]
        row = delegation_row(
            attempt, index=slot, request_id=self.ledger.run_id, session_id=self.runtime.session_id, role=role
        )
        row.solve_node_id = node_id
        return row

    def _record(self, slot: int, attempt: Attempt, role: str | None = None) -> None:
        super()._record(slot, attempt, role)
        node_id, _ = self._node_of[slot]
        self._made[node_id] = self._made.get(node_id, 0) + 1
