"""Turning a run's outcomes and decision into the client's result, cut to fit its output limit.

The final answer gets half of the client's output allowance (for its two copies: the text content and
structuredContent) and the members share the other half (they are in structuredContent only). Whatever
is cut is kept whole in ``stored_output`` (linked from its delegation row) and named in the result, so the
client can fetch it with ``get_output``. The final answer is always stored, so stats can show it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.engine.consensus.members import Member, MemberOutcome
from server.engine.consensus.models import ConsensusResult, MemberResult, Strategy
from server.engine.consensus.registry import Decision
from server.engine.output import cut_to_limit
from server.engine.runs.ledger import RunLedger
from server.store.models import ConsensusRun

if TYPE_CHECKING:
    from server.engine.consensus.run import ConsensusSpec

__all__ = ["RunFacts", "assemble_result", "run_row"]


@dataclass
class RunFacts:
    """What the result is built from, besides the decision."""

    run_id: str
    strategy: Strategy
    question: str
    members: Sequence[Member]
    outcomes: Sequence[MemberOutcome]
    judge_model: str | None
    judge_outcome: MemberOutcome | None
    max_output_tokens: int
    latency_ms: float


def _member(
    facts: RunFacts, ledger: RunLedger, index: int, decision: Decision, share_tokens: int, final_id: str | None
) -> MemberResult:
    member, outcome = facts.members[index], facts.outcomes[index]
    answer, truncated, output_id = outcome.text, False, outcome.output_id
    if answer is not None:
        # The chosen member's full answer is already stored as the final answer.
        candidate = final_id if index == decision.chosen and final_id else uuid.uuid4().hex
        answer, truncated = cut_to_limit(answer, share_tokens, candidate)
        if truncated:
            output_id = candidate
            if candidate != final_id:
                ledger.store_full(index, outcome.text or "", "consensus_member", output_id=candidate)
    return MemberResult(
        model=member.model,
        stance=member.stance,
        status=outcome.status,
        answer=answer,
        answer_truncated=truncated,
        output_id=output_id,
        latency_ms=outcome.latency_ms,
        input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens,
        cost_usd=outcome.cost_usd,
        error=outcome.error,
        group=decision.groups.get(index),
        score=decision.scores.get(index),
    )


def _judge(facts: RunFacts) -> MemberResult | None:
    outcome = facts.judge_outcome
    if outcome is None or facts.judge_model is None:
        return None
    return MemberResult(
        model=facts.judge_model,
        status=outcome.status,
        latency_ms=outcome.latency_ms,
        input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens,
        cost_usd=outcome.cost_usd,
        error=outcome.error,
    )


def assemble_result(facts: RunFacts, decision: Decision, ledger: RunLedger) -> ConsensusResult:
    """The client's result; stores the final answer and every cut member answer through ``ledger``."""
    final_id = None
    final, final_truncated = decision.final, False
    if decision.final is not None:
        final_id = ledger.store_full(decision.chosen, decision.final, "consensus")
        # The final answer reaches the client twice (text content and structuredContent): both copies count.
        final, final_truncated = cut_to_limit(decision.final, facts.max_output_tokens // 2, final_id, copies=2)
    share = facts.max_output_tokens // 2 // max(1, len(facts.members))
    members = [_member(facts, ledger, i, decision, share, final_id) for i in range(len(facts.members))]
    total, known = ledger.costs()
    unpriced = [m.model for m, o in zip(facts.members, facts.outcomes, strict=True) if _unknown(o)]
    if facts.judge_outcome is not None and _unknown(facts.judge_outcome) and facts.judge_model:
        unpriced.append(facts.judge_model)
    chosen = facts.members[decision.chosen].model if decision.chosen is not None else None
    return ConsensusResult(
        run_id=facts.run_id,
        strategy=facts.strategy,
        status="ok" if decision.final is not None else "failed",
        final_answer=final,
        final_truncated=final_truncated,
        final_output_id=final_id,
        chosen=chosen if chosen or decision.final is None else "judge",
        agreement=decision.agreement,
        dissent=decision.dissent,
        members=members,
        judge=_judge(facts),
        total_cost_usd=total,
        cost_known_usd=known,
        unpriced_models=unpriced,
        latency_ms=facts.latency_ms,
        notes=decision.notes,
    )


def _unknown(outcome: MemberOutcome) -> bool:
    """A call that was made (it has a latency) and whose cost is not known."""
    return not outcome.priced or (outcome.cost_usd is None and outcome.latency_ms is not None)


def run_row(
    run_id: str,
    session_id: str | None,
    spec: ConsensusSpec,
    result: ConsensusResult | None,
    ended: str,
    latency_ms: float,
    ledger: RunLedger,
) -> ConsensusRun:
    """The ``consensus_run`` row; a run that ended without a result has status ``ended`` (cancelled, error).

    Its costs come from the calls' rows, so a cancelled run still says what its calls cost (or that some is
    unknown): ``total_cost_usd`` is None when any call's cost is, ``cost_known_usd`` the known part.
    """
    total, known = ledger.costs()
    return ConsensusRun(
        id=run_id,
        session_id=session_id,
        strategy=spec.strategy,
        question=spec.question,
        status=result.status if result else ended,
        agreement=result.agreement if result else None,
        final_output_id=result.final_output_id if result else None,
        total_cost_usd=total,
        cost_known_usd=known,
        latency_ms=latency_ms,
    )
