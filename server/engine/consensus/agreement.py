"""Agreement between answers: normalisation, similarity, grouping, quorum and the dissent summary.

``vote`` asks whether several models said *the same thing*, not whether they wrote the same bytes. An answer
is reduced to its claim (the "final answer" line when there is one, else the whole text), lower-cased, with
markdown and punctuation dropped; two claims agree when they are equal or their word sets overlap enough.
Answers are grouped greedily in arrival order, so a group is stable as more answers come in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_THRESHOLD",
    "AnswerGroup",
    "Grouping",
    "dissent_summary",
    "group_answers",
    "normalise_answer",
    "quorum_size",
    "similarity",
]

DEFAULT_THRESHOLD = 0.6
"""Word-set overlap (Jaccard) above which two answers count as the same answer."""

_FINAL_LINE = re.compile(r"\b(?:final\s+answer|answer|verdict|conclusion)\W{0,3}\s*[:=]\s*(?P<claim>.+)$", re.I | re.M)
_MARKDOWN = re.compile(r"[`*_#>|~]+")
_NON_WORD = re.compile(r"[^\w\s.]+")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+(?:\.\w+)*")
_EXCERPT_CHARS = 160


def normalise_answer(answer: str) -> str:
    """The claim of an answer, in a canonical form for comparison.

    The last ``Final answer:`` / ``Answer:`` line wins over the full text, since models often explain before
    they conclude. Case, accents' composition, markdown, punctuation and runs of whitespace are dropped;
    decimal points inside numbers are kept (``3.14`` stays distinct from ``314``).
    """
    text = unicodedata.normalize("NFKC", answer)
    claims = _FINAL_LINE.findall(text)
    if claims:
        text = claims[-1]
    text = _MARKDOWN.sub(" ", text.casefold())
    text = _NON_WORD.sub(" ", text)
    # A full stop that ends a word is punctuation; one between digits is a decimal point.
    text = re.sub(r"\.(?!\w)", " ", text)
    return _SPACES.sub(" ", text).strip()


def _words(normalised: str) -> frozenset[str]:
    return frozenset(_WORD.findall(normalised))


def similarity(a: str, b: str) -> float:
    """How much two answers agree, from 0 (nothing shared) to 1 (the same claim).

    Args:
        a: An answer, raw or normalised.
        b: Another answer.

    Returns:
        1.0 for equal normalised claims, else the Jaccard overlap of their word sets.
    """
    left, right = normalise_answer(a), normalise_answer(b)
    if left == right:
        return 1.0
    left_words, right_words = _words(left), _words(right)
    union = left_words | right_words
    if not union:
        return 0.0
    return len(left_words & right_words) / len(union)


@dataclass
class AnswerGroup:
    """Answers that agree with each other; ``members`` are indexes into the answers given to grouping."""

    representative: str
    members: list[int] = field(default_factory=list)


@dataclass
class Grouping:
    """The answers grouped by agreement, largest group first (ties: the group that formed first)."""

    groups: list[AnswerGroup]
    answered: int

    @property
    def majority(self) -> AnswerGroup | None:
        return self.groups[0] if self.groups else None

    @property
    def agreement(self) -> float | None:
        """The share of answers in the majority group; None when nothing was answered."""
        majority = self.majority
        if majority is None or self.answered == 0:
            return None
        return len(majority.members) / self.answered

    def group_of(self, index: int) -> int | None:
        """The position of the group holding answer ``index``, or None."""
        for position, group in enumerate(self.groups):
            if index in group.members:
                return position
        return None


def group_answers(answers: Sequence[str | None], threshold: float = DEFAULT_THRESHOLD) -> Grouping:
    """Group answers that agree; ``None`` (a member with no answer) joins no group.

    Each answer joins the first group whose representative (its first answer) it agrees with at
    ``threshold`` or above, else it starts a group. Comparing with the representative rather than with any
    member keeps chains (A~B, B~C, A!~C) from merging answers that disagree.
    """
    groups: list[AnswerGroup] = []
    answered = 0
    for index, answer in enumerate(answers):
        if answer is None:
            continue
        answered += 1
        for group in groups:
            if similarity(group.representative, answer) >= threshold:
                group.members.append(index)
                break
        else:
            groups.append(AnswerGroup(representative=answer, members=[index]))
    # sorted() is stable: among equal sizes the group that formed first stays first.
    ordered = sorted(groups, key=lambda group: -len(group.members))
    return Grouping(groups=ordered, answered=answered)


def quorum_size(members: int) -> int:
    """How many agreeing answers settle a vote of ``members``: a strict majority, which no other group can beat."""
    return members // 2 + 1


def _excerpt(text: str) -> str:
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= _EXCERPT_CHARS else flat[: _EXCERPT_CHARS - 1].rstrip() + "…"


def dissent_summary(grouping: Grouping, labels: Sequence[str]) -> str:
    """One line per answer group outside the majority: who said it and what they said, in short.

    Args:
        grouping: The grouped answers.
        labels: The name shown for each answer index (a model id, or an anonymous label).

    Returns:
        An empty string when every answer agreed.
    """
    lines: list[str] = []
    for group in grouping.groups[1:]:
        who = ", ".join(labels[index] for index in group.members)
        lines.append(f"{who}: {_excerpt(group.representative)}")
    return "\n".join(lines)
