"""The four strategies, one class each (:mod:`server.engine.consensus.registry`), and their pure rules.

The rules are functions over member outcomes, so each is testable without a model: when a run is settled (stop
rules) and what its answer is (decisions). The judge's own call is the run's (:meth:`RunContext.ask_judge`);
:func:`decide_judged` only turns its verdict into a decision. A new strategy is one more registered class.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.engine.consensus.agreement import Grouping, dissent_summary, group_by_form, mark_unmeasured, quorum_size
from server.engine.consensus.judge import JudgeVerdict
from server.engine.consensus.members import MemberOutcome, ShouldStop
from server.engine.consensus.registry import (
    STRATEGIES,
    ConsensusStrategy,
    Decision,
    RunContext,
    known_strategy,
    strategy,
    strategy_help,
    strategy_schema,
)

__all__ = [
    "STRATEGIES",
    "Cheapest",
    "Decision",
    "Fastest",
    "Judge",
    "Vote",
    "decide_first_good",
    "decide_judged",
    "decide_vote",
    "form_grouping",
    "known_strategy",
    "measured_agreement",
    "stop_rule",
    "strategy_help",
    "strategy_schema",
]


_DISSENT_CHARS = 1_000


def _bounded(text: str) -> str:
    """The judge's own words, kept short: the dissent must not eat the client's output allowance."""
    return text if len(text) <= _DISSENT_CHARS else text[: _DISSENT_CHARS - 1].rstrip() + "…"


def _answers(outcomes: Sequence[MemberOutcome | None]) -> list[str | None]:
    return [outcome.text if outcome is not None and outcome.answered else None for outcome in outcomes]


def _first_good(outcomes: Sequence[MemberOutcome | None]) -> bool:
    return any(outcome is not None and outcome.answered for outcome in outcomes)


def stop_rule(name: str, members: int) -> ShouldStop:
    """When a run of ``members`` is settled under the strategy registered as ``name``."""
    return STRATEGIES[name].stop_rule(members)


def _never(_outcomes: Sequence[MemberOutcome | None]) -> bool:
    return False


def decide_first_good(outcomes: Sequence[MemberOutcome], finish_order: Sequence[int]) -> Decision:
    """``fastest`` / ``cheapest``: the first member, in finishing order, whose answer passed the check."""
    for index in finish_order:
        if outcomes[index].answered:
            return Decision(final=outcomes[index].text, chosen=index)
    return Decision(final=None, notes=["no member gave a good answer"])


def form_grouping(answers: Sequence[str | None]) -> Grouping:
    """Answers grouped by their form alone; long answers that differ leave it unmeasured (no model was asked)."""
    grouping = group_by_form(answers)
    return mark_unmeasured(grouping, "no grouping model was asked") if grouping.needs_model else grouping


def decide_vote(
    outcomes: Sequence[MemberOutcome],
    labels: Sequence[str],
    finish_order: Sequence[int],
    grouping: Grouping | None = None,
) -> Decision:
    """``vote``: the majority group's answer (its earliest finisher's words), with its share as agreement.

    Args:
        outcomes: Every member's outcome.
        labels: Display names of the members (for the dissent summary).
        finish_order: Member indexes in the order they finished.
        grouping: The answers in ``finish_order`` grouped by the run (forms, then a grouping model); default:
            by form alone.

    An unmeasured grouping still picks the answer (equal forms do agree) but reports no agreement, no groups
    and no dissent: nothing about how far the members agreed is known.
    """
    answers = _answers(outcomes)
    if grouping is None:
        grouping = form_grouping([answers[index] for index in finish_order])
    majority = grouping.majority
    if majority is None:
        return Decision(final=None, notes=["no member gave a good answer"])
    # Map the grouping's positions (finishing order) back to member indexes.
    by_member = [[finish_order[position] for position in group.members] for group in grouping.groups]
    chosen = by_member[0][0]
    if grouping.unmeasured is not None:
        return Decision(final=answers[chosen], chosen=chosen, notes=[f"agreement unmeasured: {grouping.unmeasured}"])
    for group, members in zip(grouping.groups, by_member, strict=True):
        group.members = members
    groups = {index: position for position, members in enumerate(by_member) for index in members}
    return Decision(
        final=answers[chosen],
        chosen=chosen,
        agreement=measured_agreement(grouping, outcomes),
        dissent=dissent_summary(grouping, labels),
        groups=groups,
    )


def measured_agreement(grouping: Grouping, outcomes: Sequence[MemberOutcome]) -> float | None:
    """The majority group's share of the members that ran: a member that failed did not agree.

    None with fewer than two answers (one answer beside a failure agrees with nobody), or when the grouping is
    unmeasured. Members cancelled or skipped once the result was settled, or refused before they started, do not
    count.
    """
    majority = grouping.majority
    if majority is None or grouping.answered < 2 or grouping.unmeasured is not None:
        return None
    failed = sum(1 for o in outcomes if not o.answered and o.status not in ("cancelled", "skipped"))
    return len(majority.members) / (grouping.answered + failed)


def decide_judged(
    outcomes: Sequence[MemberOutcome],
    answered: Sequence[int],
    verdict: JudgeVerdict,
    labels: Sequence[str],
    grouping: Grouping | None = None,
) -> Decision:
    """``judge``: the judge's synthesis, or else the winner's answer; agreement still comes from grouping.

    Args:
        outcomes: Every member's outcome.
        answered: The member indexes whose answers the judge saw, in the order given to the prompt builder.
        verdict: The judge's verdict over positions in ``answered``.
        labels: Display names of the members (for the dissent summary).
        grouping: Every member's answer (in member order) grouped by the run; default: by form alone.
    """
    answers = _answers(outcomes)
    grouping = grouping or form_grouping(answers)
    winner = answered[verdict.winner]
    scores = {answered[position]: score for position, score in verdict.scores.items()}
    measured = grouping.unmeasured is None
    groups = {index: position for position, group in enumerate(grouping.groups) for index in group.members}
    synthesised = verdict.final_answer is not None
    dissent = _bounded(verdict.dissent) if verdict.dissent else dissent_summary(grouping, labels) if measured else ""
    return Decision(
        final=verdict.final_answer if synthesised else answers[winner],
        chosen=None if synthesised else winner,
        agreement=measured_agreement(grouping, outcomes),
        dissent=dissent,
        groups=groups if measured else {},
        scores=scores,
        notes=[] if measured else [f"agreement unmeasured: {grouping.unmeasured}"],
    )


@strategy
class Fastest(ConsensusStrategy):
    """The first member, in finishing order, whose answer passes the check; the rest are cancelled."""

    name = "fastest"
    summary = "fastest: first good answer wins"

    def stop_rule(self, members: int) -> ShouldStop:
        return _first_good

    async def decide(
        self, outcomes: Sequence[MemberOutcome], labels: Sequence[str], finish_order: Sequence[int], run: RunContext
    ) -> Decision:
        return decide_first_good(outcomes, finish_order)


@strategy
class Vote(ConsensusStrategy):
    """The majority of agreeing answers; stops once a strict majority of *all* members agrees (no later answers
    can outvote it)."""

    name = "vote"
    summary = "vote: majority of agreeing answers"

    def stop_rule(self, members: int) -> ShouldStop:
        quorum = quorum_size(members)

        def quorum_reached(outcomes: Sequence[MemberOutcome | None]) -> bool:
            # Only equal forms settle a quorum early: they agree for certain, with no model asked.
            majority = group_by_form(_answers(outcomes)).majority
            return majority is not None and len(majority.members) >= quorum

        return quorum_reached

    async def decide(
        self, outcomes: Sequence[MemberOutcome], labels: Sequence[str], finish_order: Sequence[int], run: RunContext
    ) -> Decision:
        answers = _answers(outcomes)
        grouping = await run.group_answers([answers[index] for index in finish_order])
        return decide_vote(outcomes, labels, finish_order, grouping)


@strategy
class Judge(ConsensusStrategy):
    """Everyone is heard, then a judge scores the anonymised answers and picks or synthesises; a vote on meaning is
    the fallback when there are fewer than two answers or no usable verdict."""

    name = "judge"
    summary = "judge: a judge model scores the anonymised answers and picks or synthesises"
    judged = True

    def stop_rule(self, members: int) -> ShouldStop:
        return _never

    async def decide(
        self, outcomes: Sequence[MemberOutcome], labels: Sequence[str], finish_order: Sequence[int], run: RunContext
    ) -> Decision:
        answered = [index for index in finish_order if outcomes[index].answered]
        if len(answered) < 2:
            decision = decide_vote(outcomes, labels, finish_order)
            decision.notes.append(f"judge skipped: {len(answered)} answer(s) to judge")
            return decision
        verdict = await run.ask_judge([outcomes[i].text or "" for i in answered])
        answers = _answers(outcomes)
        if isinstance(verdict, str):
            # The fallback is a vote on meaning (forms, then a grouping model), never on shared words.
            grouping = await run.group_answers([answers[index] for index in finish_order])
            decision = decide_vote(outcomes, labels, finish_order, grouping)
            decision.notes.append(f"{verdict}; fell back to vote")
            return decision
        return decide_judged(outcomes, answered, verdict, labels, await run.group_answers(answers))


@strategy
class Cheapest(Fastest):
    """Members one at a time, cheapest worst case first (unknown prices last), escalating on a bad answer."""

    name = "cheapest"
    summary = "cheapest: cheapest first, escalate on a bad answer"
    sequential = True

    def order(self, prices: Sequence[float | None]) -> list[int]:
        def price(index: int) -> float:
            known = prices[index]
            return float("inf") if known is None else known  # unknown prices go last, in the order given

        return sorted(range(len(prices)), key=price)
