"""The strategies' rules: when a run is settled (stop rules) and what its answer is (decisions).

Pure functions over member outcomes, so each rule is testable without a model. The judge's own call lives in
:mod:`server.engine.consensus.run`; :func:`decide_judged` only turns its verdict into a decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from server.engine.consensus.agreement import Grouping, dissent_summary, group_answers, quorum_size
from server.engine.consensus.judge import JudgeVerdict
from server.engine.consensus.members import MemberOutcome, ShouldStop
from server.engine.consensus.models import Strategy

__all__ = [
    "Decision",
    "decide_first_good",
    "decide_judged",
    "decide_vote",
    "stop_rule",
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


_DISSENT_CHARS = 1_000


def _bounded(text: str) -> str:
    """The judge's own words, kept short: the dissent must not eat the client's output allowance."""
    return text if len(text) <= _DISSENT_CHARS else text[: _DISSENT_CHARS - 1].rstrip() + "…"


def _answers(outcomes: Sequence[MemberOutcome | None]) -> list[str | None]:
    return [outcome.text if outcome is not None and outcome.answered else None for outcome in outcomes]


def _first_good(outcomes: Sequence[MemberOutcome | None]) -> bool:
    return any(outcome is not None and outcome.answered for outcome in outcomes)


def stop_rule(strategy: Strategy, members: int) -> ShouldStop:
    """When a run of ``members`` is settled under ``strategy``.

    ``fastest`` and ``cheapest`` stop at the first good answer; ``vote`` once a strict majority of *all*
    members agrees (no later answers can outvote it); ``judge`` hears everyone.
    """
    if strategy in ("fastest", "cheapest"):
        return _first_good
    if strategy == "vote":
        quorum = quorum_size(members)

        def quorum_reached(outcomes: Sequence[MemberOutcome | None]) -> bool:
            majority = group_answers(_answers(outcomes)).majority
            return majority is not None and len(majority.members) >= quorum

        return quorum_reached
    return lambda _outcomes: False


def decide_first_good(outcomes: Sequence[MemberOutcome], finish_order: Sequence[int]) -> Decision:
    """``fastest`` / ``cheapest``: the first member, in finishing order, whose answer passed the check."""
    for index in finish_order:
        if outcomes[index].answered:
            return Decision(final=outcomes[index].text, chosen=index)
    return Decision(final=None, notes=["no member gave a good answer"])


def _vote_from(grouping: Grouping, answers: Sequence[str | None], labels: Sequence[str]) -> Decision:
    majority = grouping.majority
    if majority is None:
        return Decision(final=None, notes=["no member gave a good answer"])
    chosen = majority.members[0]
    groups = {index: position for position, group in enumerate(grouping.groups) for index in group.members}
    return Decision(
        final=answers[chosen],
        chosen=chosen,
        agreement=grouping.agreement,
        dissent=dissent_summary(grouping, labels),
        groups=groups,
    )


def decide_vote(outcomes: Sequence[MemberOutcome], labels: Sequence[str], finish_order: Sequence[int]) -> Decision:
    """``vote``: the majority group's answer (its earliest finisher's words), with its share as agreement.

    Answers are grouped in finishing order, so among equal groups the one that formed first wins, and the
    representative of each group is the answer that arrived first.
    """
    answers = _answers(outcomes)
    ordered = [answers[index] for index in finish_order]
    grouping = group_answers(ordered)
    # Map the grouping's positions (finishing order) back to member indexes.
    for group in grouping.groups:
        group.members = [finish_order[position] for position in group.members]
    decision = _vote_from(grouping, answers, labels)
    decision.agreement = measured_agreement(grouping, outcomes)
    return decision


def measured_agreement(grouping: Grouping, outcomes: Sequence[MemberOutcome]) -> float | None:
    """The majority group's share of the members that ran: a member that failed did not agree.

    None with fewer than two answers: one answer beside a failure agrees with nobody (it was reported as 1.0).
    Members cancelled or skipped once the result was settled, or refused before they started, do not count.
    """
    majority = grouping.majority
    if majority is None or grouping.answered < 2:
        return None
    failed = sum(1 for o in outcomes if not o.answered and o.status not in ("cancelled", "skipped"))
    return len(majority.members) / (grouping.answered + failed)


def decide_judged(
    outcomes: Sequence[MemberOutcome],
    answered: Sequence[int],
    verdict: JudgeVerdict,
    labels: Sequence[str],
) -> Decision:
    """``judge``: the judge's synthesis, or else the winner's answer; agreement still comes from grouping.

    Args:
        outcomes: Every member's outcome.
        answered: The member indexes whose answers the judge saw, in the order given to the prompt builder.
        verdict: The judge's verdict over positions in ``answered``.
        labels: Display names of the members (for the dissent summary).
    """
    answers = _answers(outcomes)
    grouping = group_answers(answers)
    winner = answered[verdict.winner]
    scores = {answered[position]: score for position, score in verdict.scores.items()}
    groups = {index: position for position, group in enumerate(grouping.groups) for index in group.members}
    synthesised = verdict.final_answer is not None
    return Decision(
        final=verdict.final_answer if synthesised else answers[winner],
        chosen=None if synthesised else winner,
        agreement=measured_agreement(grouping, outcomes),
        dissent=_bounded(verdict.dissent) if verdict.dissent else dissent_summary(grouping, labels),
        groups=groups,
        scores=scores,
    )
