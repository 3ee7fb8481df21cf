"""The ``consensus`` engine: ask several models at once and return one judged answer.

This module runs the flow: members, then the strategy's decision (and the judge's call), then the result and
its rows. Each call is made and recorded by :mod:`server.engine.runs.calls` (through the delegate engine's
``try_model``); the strategy is looked up by name in :mod:`server.engine.consensus.strategies` (one class each,
never branched on here), the scheduling in
:mod:`server.engine.consensus.members`, the judge's prompt in :mod:`server.engine.consensus.judge`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import anyio
from sqlmodel import SQLModel

from server.classify import classify
from server.engine.consensus.agreement import (
    GROUPING_SYSTEM,
    Grouping,
    GroupingError,
    group_by_form,
    grouping_prompt,
    mark_unmeasured,
    merge_groups,
    parse_groups,
)
from server.engine.consensus.calls import ConsensusCalls
from server.engine.consensus.judge import JudgeError, JudgeVerdict, build_judge_prompt, parse_verdict
from server.engine.consensus.members import Member, MemberOutcome, StopSignal, run_members
from server.engine.consensus.models import ConsensusResult, Strategy
from server.engine.consensus.prompts import check_answer, member_system_prompt
from server.engine.consensus.result import RunFacts, assemble_result, run_row
from server.engine.consensus.strategies import STRATEGIES
from server.engine.progress import Progress
from server.engine.runs.ledger import RunLedger
from server.engine.runs.record import Ended, run_recorded
from server.engine.runtime import Runtime
from server.providers.base import CompletionRequest
from server.providers.registry import ModelInfo

__all__ = ["ConsensusRefused", "ConsensusSpec", "Progress", "run_consensus"]

JUDGE_SHARE = 0.5
"""Of the time left before the client's timeout when the members start, a ``judge`` run gives them this share;
the judge gets the rest."""


@dataclass(frozen=True)
class ConsensusSpec:
    """One consensus request, its members already chosen."""

    question: str
    members: tuple[Member, ...]
    strategy: Strategy = "judge"
    judge: str | None = None
    max_cost_usd: float | None = None
    timeout_s: float | None = None


class ConsensusRefused(Exception):
    """Every member was refused before any spend (a budget, the run's cost cap, the client's deadline); the
    message lists why."""


def _label(member: Member) -> str:
    return member.model if member.stance is None else f"{member.model} ({member.stance})"


class _ConsensusRun:
    def __init__(
        self, runtime: Runtime, spec: ConsensusSpec, progress: Progress | None, deadline: float | None
    ) -> None:
        self.runtime = runtime
        self.spec = spec
        self.progress = progress
        self.run_id = uuid.uuid4().hex
        self.ledger = RunLedger(self.run_id, runtime.session_id, runtime.project_dir)
        self.calls = ConsensusCalls(runtime, self.ledger, spec.max_cost_usd, len(spec.members), classify(spec.question))
        self.members = list(spec.members)
        self.infos = [self.calls.model(m.model) for m in self.members]
        self.strategy = STRATEGIES[spec.strategy]
        self._seat_in_order()
        self.finish_order: list[int] = []
        self.total_steps = len(self.members) + (1 if self.strategy.judged else 0)
        self.judge_outcome: MemberOutcome | None = None
        self.judge_model: str | None = None
        self.notes: list[str] = []
        self.refused: dict[int, str] = {}
        """Members a budget or the run's cap refused before they started, and why."""
        self.started = time.perf_counter()
        self.deadline = deadline
        """When the whole run must be over (``anyio.current_time()``), if the client's timeout bounds it."""
        self.calls.deadline = deadline

    def _seat_in_order(self) -> None:
        probe = self.calls.request(member_system_prompt(None), self.spec.question)
        prices = [self.calls.worst_case(info, probe) if info is not None else None for info in self.infos]
        order = self.strategy.order(prices)
        self.members, self.infos = [self.members[i] for i in order], [self.infos[i] for i in order]

    def _member_request(self, index: int) -> CompletionRequest:
        return self.calls.request(member_system_prompt(self.members[index].stance), self.spec.question)

    def gate(self, index: int) -> str | None:
        info = self.infos[index]
        if info is None:
            return f"{self.members[index].model}: no such configured model (the providers tool lists them)"
        reason = self.calls.admit(index, info, self._member_request(index))
        if reason is not None:
            self.refused[index] = reason
        return reason

    async def call_member(self, index: int, member: Member, *, timeout_s: float, stop: StopSignal) -> MemberOutcome:
        del timeout_s  # the run's deadline cancels this call; try_model keeps the provider's own timeout
        info = self.infos[index]
        assert info is not None, "the gate lets only configured models start"
        outcome = await self.calls.call(index, info, self._member_request(index), stop)
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
        await self.calls.load_spend(self._worst_usd())
        await self.runtime.build_providers([info.provider for info in self.infos if info is not None])
        timeout_s, by_client = self._members_deadline_s()  # taken now: the spend and the clients took some of it
        outcomes = await run_members(
            self.members,
            self.call_member,
            timeout_s=timeout_s,
            should_stop=self.strategy.stop_rule(len(self.members)),
            gate=self.gate,
            on_finish=self.on_finish,
            sequential=self.strategy.sequential,
            deadline_reason="deadline" if by_client else "timeout",
        )
        if self.members and len(self.refused) == len(self.members):
            reasons = "; ".join(f"{self.members[i].model}: {why}" for i, why in sorted(self.refused.items()))
            raise ConsensusRefused(f"every member was refused before any spend: {reasons}")
        labels = [_label(member) for member in self.members]
        order = self.finish_order + [i for i in range(len(outcomes)) if i not in self.finish_order]
        decision = await self.strategy.decide(outcomes, labels, order, self)
        if self.calls.cap.unbounded:
            unbounded = ", ".join(self.calls.cap.unbounded)
            decision.notes.append(f"cost cap does not bound unpriced models: {unbounded}")
        decision.notes[:0] = self.notes
        self.ledger.note_quality(decision.groups, decision.scores)
        return assemble_result(self.facts(outcomes), decision, self.ledger)

    def _worst_usd(self) -> float:
        """The run's worst case: each priced member's, and the judge's taken as the dearest member's."""
        costs = [
            self.calls.worst_case(info, self._member_request(i)) if info is not None else None
            for i, info in enumerate(self.infos)
        ]
        known = [cost for cost in costs if cost is not None]
        judge = max(known, default=0.0) if self.strategy.judged else 0.0
        return sum(known) + judge

    def _members_deadline_s(self) -> tuple[float, bool]:
        """The members' deadline: the one asked for, cut short to end within the client's own timeout; and
        whether the client's timeout is what sets it (a member cut then is recorded ``deadline``, not ``timeout``)."""
        asked = self.spec.timeout_s or self.runtime.config.resilience.timeout_s
        left = self._left_s()
        if left is None:
            return asked, False
        bound = max(0.0, left * (JUDGE_SHARE if self.strategy.judged else 1.0))
        if bound < asked:
            self.notes.append(f"members' deadline cut to {bound:.1f} s to end within the client's tool timeout")
            return bound, True
        return asked, False

    async def ask_judge(self, answers: list[str]) -> JudgeVerdict | str:
        """The judge's verdict on ``answers``, or why there is none (the judge strategy then falls back to voting).

        This run is the :class:`~server.engine.consensus.registry.RunContext` its strategy decides with.
        """
        judge_id = self.spec.judge or self.members[0].model
        self.judge_model = judge_id
        info = self.calls.model(judge_id)
        if info is None:
            self.judge_outcome = MemberOutcome(status="skipped", error="no such configured model")
            return f"judge {judge_id}: no such configured model"
        prompt = build_judge_prompt(self.spec.question, answers, seed=self.run_id)
        request = self.calls.request(prompt.system, prompt.user)
        slot = len(self.members)
        reason = self.calls.admit(slot, info, request)
        if reason is not None:
            self.judge_outcome = MemberOutcome(status="skipped", error=reason)
            return f"judge skipped: {reason}"
        left = self._left_s()
        with anyio.move_on_after(float("inf") if left is None else left):
            # Only the client's timeout cuts the judge here (its own is the provider's): not the model's failure.
            self.judge_outcome = await self.calls.call(slot, info, request, StopSignal(reason="deadline"))
        outcome = self.judge_outcome or MemberOutcome(status="deadline", error="the client's tool timeout came first")
        self.judge_outcome = outcome
        if self.progress is not None:
            await self.progress(self.total_steps, self.total_steps, f"judge {judge_id}: {outcome.status}")
        if not outcome.answered or outcome.text is None:
            return f"judge {judge_id} failed ({outcome.status}: {outcome.error})"
        try:
            return parse_verdict(outcome.text, prompt.labels)
        except JudgeError as exc:
            outcome.status, outcome.error = "rejected", str(exc)
            return f"judge {judge_id} gave no usable verdict ({exc})"

    async def group_answers(self, answers: list[str | None]) -> Grouping:
        """``answers`` grouped by meaning: by form, then, when long answers differ, by one call to the grouping
        model (:meth:`_grouper`); unmeasured with the reason when there is none or its reply is unusable."""
        grouping = group_by_form(answers)
        if not grouping.needs_model:
            return grouping
        info = self._grouper()
        if info is None:
            return mark_unmeasured(grouping, "long answers and no configured model outside the members to compare them")
        prompt = grouping_prompt(self.spec.question, [group.representative for group in grouping.groups])
        request = self.calls.request(prompt.system, prompt.user)
        slot = len(self.members) + 1
        reason = self.calls.admit(slot, info, request, role="grouping")
        if reason is not None:
            return mark_unmeasured(grouping, f"grouping model {info.id} skipped: {reason}")
        left = self._left_s()
        outcome: MemberOutcome | None = None
        with anyio.move_on_after(float("inf") if left is None else left):
            outcome = await self.calls.call(slot, info, request, StopSignal(reason="deadline"), role="grouping")
        if outcome is None:
            return mark_unmeasured(grouping, f"grouping model {info.id}: the client's tool timeout came first")
        if not outcome.answered:
            return mark_unmeasured(grouping, f"grouping model {info.id} failed ({outcome.status}: {outcome.error})")
        try:
            partition = parse_groups(outcome.text or "", prompt.labels)
        except GroupingError as exc:
            return mark_unmeasured(grouping, f"grouping model {info.id}: {exc}")
        self.notes.append(f"answers grouped by {info.id}")
        return merge_groups(grouping, partition)

    def _grouper(self) -> ModelInfo | None:
        """The model that says which long answers agree: never a member; the judge when it is not one, else the
        cheapest configured model (worst case for a grouping call; unpriced ones last, in config order)."""
        members = {member.model for member in self.members}
        if self.spec.judge is not None and self.spec.judge not in members:
            judge = self.calls.model(self.spec.judge)
            if judge is not None:
                return judge
        probe = self.calls.request(GROUPING_SYSTEM, self.spec.question * 2)
        candidates = [info for info in self.runtime.registry.models() if info.id not in members]

        def price(info: ModelInfo) -> float:
            cost = self.calls.worst_case(info, probe)
            return float("inf") if cost is None else cost

        return min(candidates, key=price, default=None)

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

    def _left_s(self) -> float | None:
        """Seconds until the client's timeout (less its margin), or None when the client sets none."""
        return None if self.deadline is None else self.deadline - anyio.current_time()

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


async def run_consensus(
    runtime: Runtime, spec: ConsensusSpec, *, progress: Progress | None = None, deadline: float | None = None
) -> ConsensusResult:
    """Ask ``spec.members``, combine their answers by ``spec.strategy``, record the run and return its result.

    ``deadline`` is :meth:`Runtime.call_deadline` taken when the tool call arrived (default: taken now), so the
    time the call waited before the run counts against the client's timeout too.

    Members that fail, time out or fail the answer check are reported in the result and never fatal while
    another member answers; with no good answer the result's ``status`` is ``failed``.
    """
    run = _ConsensusRun(runtime, spec, progress, runtime.call_deadline() if deadline is None else deadline)

    def rows(result: ConsensusResult | None, ended: Ended) -> list[SQLModel]:
        return run.ledger.rows_with(
            run_row(run.run_id, runtime.session_id, spec, result, ended, run.elapsed_ms(), run.ledger)
        )

    return await run_recorded(run.calls, run.execute, rows)
