"""The model calls of one run of ``consensus`` or ``solve``: admitted under its cost cap and budgets, made, recorded.

Each call goes through the delegate engine's :func:`~server.engine.attempt.try_model` (breaker, cache,
concurrency limit, usage and cost) and becomes a ``delegation`` row (each engine's subclass says how it is linked
to the run), kept in the run's :class:`~server.engine.runs.ledger.RunLedger` until the run writes everything at once.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

import anyio

from server.engine.attempt import try_model
from server.engine.delegate import DEFAULT_OUTPUT_ESTIMATE
from server.engine.fallback import MIN_ATTEMPT_S
from server.engine.records import Attempt, estimate_cost
from server.engine.runs.cap import CostCap
from server.engine.runs.ledger import RunLedger
from server.engine.runs.outcome import MemberOutcome, StopSignal
from server.engine.runtime import Runtime
from server.providers.base import ChatMessage, CompletionRequest
from server.providers.registry import ModelInfo
from server.routing.breaker import BreakerState
from server.routing.budgets import Spend, budget_refusal, reserve
from server.store.models import Delegation

__all__ = ["ANSWER_TOKENS_UNDER_CAP", "RunCalls", "outcome_of"]

ANSWER_TOKENS_UNDER_CAP = 4_096
"""Under a cost cap each call's output is capped at this, so its worst case has a price."""


def outcome_of(attempt: Attempt) -> MemberOutcome:
    """A delegate attempt as a member outcome; ``truncated`` when the provider hit the output-token limit."""
    completion = attempt.completion
    finish = completion.extra.get("finish_reason") if completion else None
    return MemberOutcome(
        status=attempt.status,
        text=completion.text if completion else None,
        error=attempt.error,
        latency_ms=attempt.latency_ms,
        input_tokens=completion.input_tokens if completion else 0,
        output_tokens=completion.output_tokens if completion else 0,
        cost_usd=attempt.cost_usd,
        priced=attempt.priced,
        truncated=finish in ("length", "max_tokens"),
    )


class RunCalls(ABC):
    """Makes and records the calls of run ``ledger.run_id``; ``slot`` numbers them; a subclass writes their rows.

    Args:
        runtime: The shared resources (registry, breakers, store, config).
        ledger: Where the delegation rows go.
        max_cost_usd: The run's cap; None for no cap (the daily and session budgets still apply).
        tool: The tool whose run this is (``consensus``, ``solve``): it labels the run's budget reservation (the
            ``model`` column of ``budget_reservation``) and a cancelled call's error.
    """

    def __init__(self, runtime: Runtime, ledger: RunLedger, max_cost_usd: float | None, *, tool: str) -> None:
        self.runtime = runtime
        self.ledger = ledger
        self.cap = CostCap(max_cost_usd)
        self.tool = tool
        self.spend: Spend | None = None
        self.deadline: float | None = None
        """The client's deadline (``anyio.current_time()``), if it bounds the run: no call starts too close to it."""
        self.reservation: str | None = None
        """The run's budget reservation in the store, settled when its rows are recorded."""

    def model(self, model_id: str) -> ModelInfo | None:
        """The configured model ``provider:model``, or None (unknown provider or a malformed id)."""
        try:
            return self.runtime.registry.model(model_id)
        except ValueError:
            return None

    def request(self, system: str, user: str) -> CompletionRequest:
        max_tokens = ANSWER_TOKENS_UNDER_CAP if self.cap.cap_usd is not None else None
        return CompletionRequest(messages=(ChatMessage("user", user),), system=system, max_tokens=max_tokens)

    def worst_case(self, info: ModelInfo, request: CompletionRequest) -> float | None:
        # Without a cap there is no output bound; estimate as delegate does, so budgets judge both alike.
        output_tokens = request.max_tokens or DEFAULT_OUTPUT_ESTIMATE
        return estimate_cost(info, request.approx_input_tokens(), output_tokens)

    async def load_spend(self, worst_usd: float) -> None:
        """Read today's and this session's spend, when a daily or session budget is set, and reserve the run's
        worst case (``worst_usd``, at most the room left) in the store, so other processes count it as spent."""
        budgets = self.runtime.config.budgets
        if budgets.daily_usd is None and budgets.session_usd is None:
            return
        store = await self.runtime.ready_store()
        await self.runtime.recorder.settled()  # our last calls' real costs, not just their reservations

        def decide(spend: Spend) -> tuple[float | None, Spend]:
            rooms = [budgets.daily_usd - spend.today_usd if budgets.daily_usd is not None else None]
            rooms.append(budgets.session_usd - spend.session_usd if budgets.session_usd is not None else None)
            room = min(r for r in rooms if r is not None)
            amount = min(worst_usd, max(room, 0.0))
            return (amount if amount > 0 else None), spend

        ttl_s = self.runtime.config.resilience.timeout_s * 2 + 60
        self.reservation, self.spend = await anyio.to_thread.run_sync(
            lambda: reserve(store, self.runtime.session_id, decide, model=self.tool, ttl_s=ttl_s)
        )

    def admit(self, slot: int, info: ModelInfo, request: CompletionRequest, *, role: str | None = None) -> str | None:
        """Check the client's deadline, reserve the call's worst case under the run's cap, then check the daily and
        session budgets.

        A refusal is recorded as a $0 row of its kind (:meth:`refuse`; ``role`` as for :meth:`call`).
        """
        refused = self._refusal(slot, info, request)
        if refused is not None:
            self.refuse(slot, info, *refused, role)
        return None if refused is None else refused[0]

    def _refusal(self, slot: int, info: ModelInfo, request: CompletionRequest) -> tuple[str, str] | None:
        """Why call ``slot`` may not start and the kind it is recorded under, or None (its worst case reserved)."""
        if self.deadline is not None and self.deadline - anyio.current_time() <= MIN_ATTEMPT_S:
            return "not tried: the client's tool timeout (MCP_TOOL_TIMEOUT) was about to pass", "deadline"
        worst = self.worst_case(info, request)
        reason = self.cap.admit(slot, info.id, worst)
        if reason is not None:
            return reason, "cost_cap"  # the user's own max_cost_usd, not a budget running out
        if worst is None or self.spend is None:
            return None
        # The run's own reservations count as spent: its members start before any of them is recorded.
        ours = self.cap.committed_usd - worst
        spend = Spend(self.spend.today_usd + ours, self.spend.session_usd + ours)
        reason = budget_refusal(self.runtime.config.budgets, spend, worst, config_file=self.runtime.config_file)
        if reason is None:
            return None
        self.cap.settle(slot, 0.0)
        return reason, "budget"

    def refuse(self, slot: int, info: ModelInfo, reason: str, kind: str, role: str | None = None) -> None:
        """Record call ``slot``, refused before any request, as a $0 row of ``kind`` (never the model's failure:
        ``server.outcomes``), recorded with the run's rows through its ledger."""
        self.ledger.add_refusal(self._row(slot, Attempt(info, kind, 0.0, error=reason, cost_usd=0.0), role))

    async def call(
        self, slot: int, info: ModelInfo, request: CompletionRequest, stop: StopSignal, *, role: str | None = None
    ) -> MemberOutcome:
        """Make call ``slot`` and record it; a cancelled call is recorded with ``stop.reason`` and re-raised.

        ``role`` is the row's role (``delegation.role``); default: the subclass's (:meth:`_record`).
        """
        started = time.perf_counter()
        try:
            attempt = await try_model(self.runtime, info, request)
        except anyio.get_cancelled_exc_class():
            # A cancelled call says nothing about the provider's health; free a half-open probe slot.
            breaker = self.runtime.breakers[info.provider]
            if breaker.state is BreakerState.HALF_OPEN:
                breaker.release_probe()
            status = stop.reason or "cancelled"
            latency_ms = (time.perf_counter() - started) * 1000
            self._record(slot, Attempt(info, status, latency_ms, error=f"{self.tool}: {status}"), role)
            raise
        self._record(slot, attempt, role)
        self.cap.settle(slot, attempt.cost_usd)
        return outcome_of(attempt)

    def _record(self, slot: int, attempt: Attempt, role: str | None) -> None:
        """Keep call ``slot``'s delegation row in the ledger (``role``: None for the engine's default)."""
        self.ledger.add_call(slot, self._row(slot, attempt, role))

    @abstractmethod
    def _row(self, slot: int, attempt: Attempt, role: str | None) -> Delegation:
        """Call ``slot``'s delegation row, linked to the run as the engine links it."""
