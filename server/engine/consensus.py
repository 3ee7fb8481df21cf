"""The ``consensus`` engine: ask several models at once and return one judged answer.

Each member call goes through the delegate engine's :func:`~server.engine.attempt.try_model` (breaker, cache,
concurrency limit, usage and cost) and becomes a ``delegation`` row linked to one ``consensus_run`` row. The
strategies' rules are in :mod:`server.engine.consensus_strategies`, the scheduling in
:mod:`server.engine.consensus_members`, the judge's prompt in :mod:`server.engine.consensus_judge`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from server.engine.attempt import try_model
from server.engine.consensus_cap import CostCap
from server.engine.consensus_judge import JudgeError, JudgeVerdict, build_judge_prompt, parse_verdict
from server.engine.consensus_members import Member, MemberOutcome, StopSignal, run_members
from server.engine.consensus_models import ConsensusResult, Strategy
from server.engine.consensus_prompts import check_answer, member_system_prompt
from server.engine.consensus_record import RunLedger
from server.engine.consensus_result import RunFacts, assemble_result, run_row
from server.engine.consensus_strategies import Decision, decide_first_good, decide_judged, decide_vote, stop_rule
from server.engine.delegate import DEFAULT_OUTPUT_ESTIMATE
from server.engine.records import Attempt, delegation_row, estimate_cost, save_rows
from server.engine.runtime import Runtime
from server.providers.base import ChatMessage, CompletionRequest
from server.providers.registry import ModelInfo
from server.routing.breaker import BreakerState
from server.routing.budgets import Spend, budget_refusal, current_spend

__all__ = ["ANSWER_TOKENS_UNDER_CAP", "ConsensusSpec", "Progress", "run_consensus"]

ANSWER_TOKENS_UNDER_CAP = 4_096
"""Under a cost cap each call's output is capped at this, so its worst case has a price."""

Progress = Callable[[float, float | None, str], Awaitable[None]]
"""``(done, total, message)``: told as each member (and the judge) ends."""


@dataclass(frozen=True)
class ConsensusSpec:
    """One consensus request, its members already chosen."""

    question: str
    members: tuple[Member, ...]
    strategy: Strategy = "judge"
    judge: str | None = None
    max_cost_usd: float | None = None
    timeout_s: float | None = None


def _label(member: Member) -> str:
    return member.model if member.stance is None else f"{member.model} ({member.stance})"


def _outcome(attempt: Attempt) -> MemberOutcome:
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


class _ConsensusRun:
    def __init__(self, runtime: Runtime, spec: ConsensusSpec, progress: Progress | None) -> None:
        self.runtime = runtime
        self.spec = spec
        self.progress = progress
        self.run_id = uuid.uuid4().hex
        self.ledger = RunLedger(self.run_id, runtime.session_id)
        self.cap = CostCap(spec.max_cost_usd)
        self.members = list(spec.members)
        self.infos: list[ModelInfo | None] = [self._info(m.model) for m in self.members]
        if spec.strategy == "cheapest":
            self._cheapest_first()
        self.finish_order: list[int] = []
        self.total_steps = len(self.members) + (1 if spec.strategy == "judge" else 0)
        self.judge_outcome: MemberOutcome | None = None
        self.judge_model: str | None = None
        self.spend: Spend | None = None
        self.started = time.perf_counter()

    def _info(self, model_id: str) -> ModelInfo | None:
        try:
            return self.runtime.registry.model(model_id)
        except ValueError:
            return None

    def _request(self, system: str, user: str) -> CompletionRequest:
        max_tokens = ANSWER_TOKENS_UNDER_CAP if self.spec.max_cost_usd is not None else None
        return CompletionRequest(messages=(ChatMessage("user", user),), system=system, max_tokens=max_tokens)

    def _worst_case(self, info: ModelInfo, request: CompletionRequest) -> float | None:
        # Without a cap there is no output bound; estimate as delegate does, so budgets judge both alike.
        output_tokens = request.max_tokens or DEFAULT_OUTPUT_ESTIMATE
        return estimate_cost(info, request.approx_input_tokens(), output_tokens)

    def _cheapest_first(self) -> None:
        probe = self._request(member_system_prompt(None), self.spec.question)

        def price(pair: tuple[Member, ModelInfo | None]) -> float:
            cost = self._worst_case(pair[1], probe) if pair[1] is not None else None
            return float("inf") if cost is None else cost  # unknown prices go last, in the order given

        pairs = sorted(zip(self.members, self.infos, strict=True), key=price)
        self.members, self.infos = [m for m, _ in pairs], [i for _, i in pairs]

    def gate(self, index: int) -> str | None:
        info = self.infos[index]
        if info is None:
            return f"{self.members[index].model}: no such configured model (use provider:model from list_models)"
        return self._admit(index, info, self._member_request(index))

    def _admit(self, slot: int, info: ModelInfo, request: CompletionRequest) -> str | None:
        """Reserve the call's worst case under this run's cap, then check the daily and session budgets."""
        worst = self._worst_case(info, request)
        reason = self.cap.admit(slot, info.id, worst)
        if reason is not None or worst is None or self.spend is None:
            return reason
        budgets = self.runtime.config.budgets
        # The run's own reservations count as spent: its members start before any of them is recorded.
        ours = self.cap.committed_usd - worst
        spend = Spend(self.spend.today_usd + ours, self.spend.session_usd + ours)
        reason = budget_refusal(budgets, spend, worst, config_file=self.runtime.config_file)
        if reason is not None:
            self.cap.settle(slot, 0.0)
        return reason

    def _member_request(self, index: int) -> CompletionRequest:
        return self._request(member_system_prompt(self.members[index].stance), self.spec.question)

    async def _attempt(self, slot: int, info: ModelInfo, request: CompletionRequest, stop: StopSignal) -> Attempt:
        started = time.perf_counter()
        try:
            attempt = await try_model(self.runtime, info, request)
        except anyio.get_cancelled_exc_class():
            # A cancelled call says nothing about the provider's health; free a half-open probe slot.
            breaker = self.runtime.breakers[info.provider]
            if breaker.state is BreakerState.HALF_OPEN:
                breaker.release_probe()
            status = stop.reason or "cancelled"
            cancelled = Attempt(info, status, (time.perf_counter() - started) * 1000, error=f"consensus: {status}")
            self._record(slot, cancelled)
            raise
        self._record(slot, attempt)
        self.cap.settle(slot, attempt.cost_usd)
        return attempt

    def _record(self, slot: int, attempt: Attempt) -> None:
        task_type = "consensus_judge" if slot >= len(self.members) else "consensus"
        row = delegation_row(
            attempt,
            index=slot,
            request_id=self.run_id,
            session_id=self.runtime.session_id,
            task_type=task_type,
            consensus_run_id=self.run_id,
        )
        self.ledger.add_call(slot, row)

    async def call_member(self, index: int, member: Member, *, timeout_s: float, stop: StopSignal) -> MemberOutcome:
        del timeout_s  # the run's deadline cancels this call; try_model keeps the provider's own timeout
        info = self.infos[index]
        assert info is not None, "the gate lets only configured models start"
        outcome = _outcome(await self._attempt(index, info, self._member_request(index), stop))
        if outcome.status == "ok":
            reason = check_answer(outcome.text, truncated=outcome.truncated)
            if reason is not None:
                outcome.status, outcome.error = "rejected", reason
        return outcome

    async def on_finish(self, index: int, outcome: MemberOutcome, count: int) -> None:
        self.finish_order.append(index)
        if self.progress is not None:
            message = f"{_label(self.members[index])}: {outcome.status} ({count}/{len(self.members)} members)"
            await self.progress(count, self.total_steps, message)

    async def execute(self) -> ConsensusResult:
        spec = self.spec
        timeout_s = spec.timeout_s or self.runtime.config.resilience.timeout_s
        budgets = self.runtime.config.budgets
        if budgets.daily_usd is not None or budgets.session_usd is not None:
            store = await self.runtime.ready_engine()
            self.spend = await anyio.to_thread.run_sync(current_spend, store, self.runtime.session_id)
        outcomes = await run_members(
            self.members,
            self.call_member,
            timeout_s=timeout_s,
            should_stop=stop_rule(spec.strategy, len(self.members)),
            gate=self.gate,
            on_finish=self.on_finish,
            sequential=spec.strategy == "cheapest",
        )
        labels = [_label(member) for member in self.members]
        order = self.finish_order + [i for i in range(len(outcomes)) if i not in self.finish_order]
        if spec.strategy in ("fastest", "cheapest"):
            decision = decide_first_good(outcomes, order)
        elif spec.strategy == "vote":
            decision = decide_vote(outcomes, labels, order)
        else:
            decision = await self._judged(outcomes, labels, order)
        if self.cap.unbounded:
            decision.notes.append(f"cost cap does not bound unpriced models: {', '.join(self.cap.unbounded)}")
        return assemble_result(self.facts(outcomes), decision, self.ledger)

    async def _judged(self, outcomes: list[MemberOutcome], labels: list[str], order: list[int]) -> Decision:
        answered = [index for index in order if outcomes[index].answered]
        if len(answered) < 2:
            decision = decide_vote(outcomes, labels, order)
            decision.notes.append(f"judge skipped: {len(answered)} answer(s) to judge")
            return decision
        verdict = await self._ask_judge([outcomes[i].text or "" for i in answered])
        if isinstance(verdict, str):
            decision = decide_vote(outcomes, labels, order)
            decision.notes.append(f"{verdict}; fell back to vote")
            return decision
        return decide_judged(outcomes, answered, verdict, labels)

    async def _ask_judge(self, answers: list[str]) -> JudgeVerdict | str:
        """The judge's verdict, or why there is none (the caller then falls back to voting)."""
        judge_id = self.spec.judge or self.members[0].model
        self.judge_model = judge_id
        info = self._info(judge_id)
        if info is None:
            self.judge_outcome = MemberOutcome(status="skipped", error="no such configured model")
            return f"judge {judge_id}: no such configured model"
        prompt = build_judge_prompt(self.spec.question, answers, seed=self.run_id)
        request = self._request(prompt.system, prompt.user)
        slot = len(self.members)
        reason = self._admit(slot, info, request)
        if reason is not None:
            self.judge_outcome = MemberOutcome(status="skipped", error=reason)
            return f"judge skipped: {reason}"
        attempt = await self._attempt(slot, info, request, StopSignal(reason="cancelled"))
        self.judge_outcome = outcome = _outcome(attempt)
        if self.progress is not None:
            await self.progress(self.total_steps, self.total_steps, f"judge {judge_id}: {attempt.status}")
        if not attempt.ok or outcome.text is None:
            return f"judge {judge_id} failed ({attempt.status}: {attempt.error})"
        try:
            return parse_verdict(outcome.text, prompt.labels)
        except JudgeError as exc:
            outcome.status, outcome.error = "rejected", str(exc)
            return f"judge {judge_id} gave no usable verdict ({exc})"

    def facts(self, outcomes: list[MemberOutcome]) -> RunFacts:
        return RunFacts(
            run_id=self.run_id,
            strategy=self.spec.strategy,
            question=self.spec.question,
            members=self.members,
            outcomes=outcomes,
            judge_model=self.judge_model,
            judge_outcome=self.judge_outcome,
            max_output_tokens=self.runtime.config.output.max_output_tokens,
            latency_ms=self.elapsed_ms(),
        )

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


async def run_consensus(runtime: Runtime, spec: ConsensusSpec, *, progress: Progress | None = None) -> ConsensusResult:
    """Ask ``spec.members``, combine their answers by ``spec.strategy``, record the run and return its result.

    Members that fail, time out or fail the answer check are reported in the result and never fatal while
    another member answers; with no good answer the result's ``status`` is ``failed``.
    """
    run = _ConsensusRun(runtime, spec, progress)
    result: ConsensusResult | None = None
    ended = "error"
    try:
        result = await run.execute()
        return result
    except anyio.get_cancelled_exc_class():
        ended = "cancelled"
        raise
    finally:
        row = run_row(run.run_id, runtime.session_id, spec, result, ended, run.elapsed_ms())
        rows = [*run.ledger.rows_with(row), *runtime.take_pending()]
        # Written even when the client cancelled the call: the members' calls happened and may have cost money.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(save_rows, await runtime.ready_engine(), rows)
