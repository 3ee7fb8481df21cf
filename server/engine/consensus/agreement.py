"""Agreement between answers: what counts as the same answer, how groups form, the quorum, the dissent.

``vote`` asks whether several models gave *the same answer*, and words shared say nothing about that: "the
migration is safe to run" and "the migration is not safe to run" share every word but one. So agreement is
measured in two ways only:

- **By form**, for short answers: a number, a yes/no, a choice letter or one code identifier. Each is reduced to
  a canonical form (:func:`short_form`: ``1,000`` and ``1000.0`` are one number, ``True`` is ``yes``, ``(B)`` is
  choice ``b``) and equal forms agree. Any two answers whose normalised claims are equal agree too, whatever
  their length.
- **By a model**, for the rest: one call to a model that is not a member is shown the distinct answers and asked
  which give the same answer (:func:`grouping_prompt`, :func:`parse_groups`). Its reply merges the form groups.

When neither can be had (no such model, or its reply is unusable), the grouping is *unmeasured*: its
``agreement`` is None with the reason, and no quality signal comes from it.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = [
    "GROUPING_SYSTEM",
    "AnswerGroup",
    "Grouping",
    "GroupingError",
    "GroupingPrompt",
    "dissent_summary",
    "group_by_form",
    "grouping_prompt",
    "mark_unmeasured",
    "merge_groups",
    "normalise_answer",
    "parse_groups",
    "quorum_size",
    "short_form",
]

_FINAL_LINE = re.compile(r"\b(?:final\s+answer|answer|verdict|conclusion)\W{0,3}\s*[:=]\s*(?P<claim>.+)$", re.I | re.M)
_MARKDOWN = re.compile(r"[`*_#>|~]+")
_NON_WORD = re.compile(r"[^\w\s.]+")
_SPACES = re.compile(r"\s+")
_EXCERPT_CHARS = 160
_SHOWN_CHARS = 4_000
"""Of each answer, the grouping model sees at most this many characters (its call stays cheap)."""

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?")
_YES = frozenset({"yes", "true", "correct"})
_NO = frozenset({"no", "false", "incorrect"})
_CHOICE = re.compile(r"(?:option|choice)?\s*\(?(?P<letter>[a-h])\)?", re.I)
_IDENTIFIER = re.compile(r"[A-Za-z_][\w]*(?:(?:\.|::|/)[A-Za-z_]\w*)*(?:\(\))?")
_CASE_MATTERS = re.compile(r".[A-Z]|[_.:/]")


def _claim(answer: str) -> str:
    """The answer's claim: the last ``Final answer:`` line when there is one (models explain, then conclude)."""
    text = unicodedata.normalize("NFKC", answer)
    claims = _FINAL_LINE.findall(text)
    return claims[-1] if claims else text


def normalise_answer(answer: str) -> str:
    """The claim of an answer in a canonical form: case, markdown, punctuation and runs of spaces dropped.

    Decimal points inside numbers are kept (``3.14`` stays distinct from ``314``). Two answers with equal
    normalised claims give the same answer; unequal ones may or may not.
    """
    text = _MARKDOWN.sub(" ", _claim(answer).casefold())
    text = _NON_WORD.sub(" ", text)
    # A full stop that ends a word is punctuation; one between digits is a decimal point.
    text = re.sub(r"\.(?!\w)", " ", text)
    return _SPACES.sub(" ", text).strip()


def short_form(answer: str) -> str | None:
    """The canonical form of a short answer, or None when the answer is not short.

    Short is one of: a number (``1,000``, ``3.50``, ``-2``, ``15%``), yes/no (``true``/``false`` too), a choice
    letter (``B``, ``(b)``, ``option B``), or one code identifier (``get_user``, ``os.path.join``, ``close()``).
    Identifiers keep their case when it can matter (``parseConfig``, ``a_b``); plain words are compared without.
    """
    text = _claim(answer).strip().strip("*`").strip()
    text = text.rstrip(".!").strip().strip("*`").strip()
    if not text or len(text) > 80:
        return None
    if _NUMBER.fullmatch(text):
        return _number(text)
    word = text.casefold()
    if word in _YES or word in _NO:
        return "yes" if word in _YES else "no"
    choice = _CHOICE.fullmatch(text)
    if choice and (len(text) > 1 or text.isupper() or "(" in text or text.casefold() != text):
        return f"choice:{choice.group('letter').casefold()}"
    if _IDENTIFIER.fullmatch(text):
        return f"id:{text if _CASE_MATTERS.search(text) else word}"
    return None


def _number(text: str) -> str:
    percent = text.endswith("%")
    try:
        value = Decimal(text.rstrip("%").replace(",", ""))
    except InvalidOperation:
        return f"number:{text}"
    canonical = format(value.normalize(), "f")
    return f"number:{canonical}{'%' if percent else ''}"


def _form_key(answer: str) -> tuple[str, bool]:
    """The key equal answers share, and whether it settles the answer alone (a short form does)."""
    short = short_form(answer)
    return (short, True) if short is not None else (normalise_answer(answer), False)


@dataclass
class AnswerGroup:
    """Answers that agree with each other; ``members`` are indexes into the answers given to grouping."""

    representative: str
    members: list[int] = field(default_factory=list[int])
    short: bool = False
    """Its answers are short and were settled by their form alone."""


@dataclass
class Grouping:
    """The answers grouped by agreement, largest group first (ties: the group that formed first).

    ``unmeasured`` says why agreement could not be measured (a long answer and no usable grouping model); the
    groups are then the form groups alone, good for picking an answer but not for saying how far others agree.
    """

    groups: list[AnswerGroup]
    answered: int
    unmeasured: str | None = None

    @property
    def majority(self) -> AnswerGroup | None:
        return self.groups[0] if self.groups else None

    @property
    def agreement(self) -> float | None:
        """The share of answers in the majority group; None when nothing was answered or it is unmeasured."""
        majority = self.majority
        if majority is None or self.answered == 0 or self.unmeasured is not None:
            return None
        return len(majority.members) / self.answered

    @property
    def needs_model(self) -> bool:
        """More than one group, and some group's answers are long: only a model can say if they agree."""
        return len(self.groups) > 1 and not all(group.short for group in self.groups)

    def group_of(self, index: int) -> int | None:
        """The position of the group holding answer ``index``, or None."""
        for position, group in enumerate(self.groups):
            if index in group.members:
                return position
        return None


def _ordered(groups: list[AnswerGroup], answered: int, unmeasured: str | None = None) -> Grouping:
    # sorted() is stable: among equal sizes the group that formed first stays first.
    return Grouping(sorted(groups, key=lambda group: -len(group.members)), answered, unmeasured)


def group_by_form(answers: Sequence[str | None]) -> Grouping:
    """Group answers by their form (:func:`short_form`, else the normalised claim); ``None`` joins no group.

    Groups keep arrival order for ties; a group's representative is its first answer.
    """
    groups: dict[str, AnswerGroup] = {}
    answered = 0
    for index, answer in enumerate(answers):
        if answer is None:
            continue
        answered += 1
        key, short = _form_key(answer)
        group = groups.setdefault(key, AnswerGroup(representative=answer, short=short))
        group.members.append(index)
    return _ordered(list(groups.values()), answered)


def merge_groups(grouping: Grouping, partition: Sequence[Sequence[int]]) -> Grouping:
    """The form groups merged as a grouping model said: ``partition`` lists positions in ``grouping.groups``."""
    merged: list[AnswerGroup] = []
    for part in partition:
        first = grouping.groups[part[0]]
        members = sorted(index for position in part for index in grouping.groups[position].members)
        merged.append(AnswerGroup(representative=first.representative, members=members))
    # Among equal sizes, the group holding the earliest answer formed first.
    merged.sort(key=lambda group: min(group.members))
    return _ordered(merged, grouping.answered)


def mark_unmeasured(grouping: Grouping, reason: str) -> Grouping:
    """``grouping`` marked unmeasured, with why."""
    return Grouping(grouping.groups, grouping.answered, reason)


class GroupingError(ValueError):
    """The grouping model's reply cannot be used; the message says why."""


@dataclass(frozen=True)
class GroupingPrompt:
    """The grouping model's prompt and the label -> group-position mapping."""

    system: str
    user: str
    labels: dict[str, int]


GROUPING_SYSTEM = (
    "You compare answers that several assistants gave to the same question. Two answers agree when they give "
    "the same answer: the same conclusion, number, choice or name, however differently worded. They disagree "
    "when their answers differ, however similar the wording: a negation, another number, swapped names or "
    "order. Put every label in exactly one group. Reply with JSON only, in this shape: "
    '{"groups": [["A", "C"], ["B"]]}'
)


def grouping_prompt(question: str, answers: Sequence[str]) -> GroupingPrompt:
    """The grouping model's prompt for ``answers`` (one per form group, in order), labelled ``A``, ``B``, ..."""
    labels = {string.ascii_uppercase[i] if i < 26 else f"A{i}": i for i in range(len(answers))}
    blocks = [f"### Answer {label}\n{answers[i].strip()[:_SHOWN_CHARS]}" for label, i in labels.items()]
    user = f"## Question\n{question.strip()}\n\n## Answers\n" + "\n\n".join(blocks)
    return GroupingPrompt(system=GROUPING_SYSTEM, user=user, labels=labels)


def parse_groups(reply: str, labels: dict[str, int]) -> list[list[int]]:
    """The grouping model's reply as a partition of positions; every label exactly once, nothing else.

    Raises:
        GroupingError: no JSON, the wrong shape, an unknown or repeated label, or a label left out.
    """
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end < start:
        raise GroupingError("the grouping model's reply holds no JSON object" if reply.strip() else "empty reply")
    try:
        parsed = _Groups.model_validate_json(reply[start : end + 1])
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise GroupingError("the grouping model's reply holds no JSON object") from exc
        raise GroupingError("the grouping model's reply is not in the expected form (no list of groups)") from exc
    seen = [label.strip().upper() for group in parsed.groups for label in group]
    if sorted(seen) != sorted(labels) or not all(parsed.groups):
        shown = ", ".join(sorted(labels))
        raise GroupingError(
            f"the grouping model's reply is not in the expected form (it grouped {seen}, shown {shown})"
        )
    return [[labels[label.strip().upper()] for label in group] for group in parsed.groups]


class _Groups(BaseModel):
    model_config = ConfigDict(extra="ignore")

    groups: list[list[str]]


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
