"""The judge: an anonymised rubric prompt, and the parsing of the judge's scores.

The judge sees answers labelled ``A``, ``B``, ... in a shuffled order and never the model names, so it cannot
favour a brand or a position. It replies with JSON: per-label scores on each criterion of the rubric, the
winning label, and optionally a synthesised final answer and a note on the disagreements. A reply that does not
parse is a :class:`JudgeError`; the caller then falls back to voting.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from server.engine.runs.replies import JudgeError, json_object

__all__ = [
    "RUBRIC",
    "JudgeError",
    "JudgePrompt",
    "JudgeVerdict",
    "build_judge_prompt",
    "parse_verdict",
]

RUBRIC: dict[str, str] = {
    "correctness": "Is it right? Facts, logic and code are accurate; no invented APIs or numbers.",
    "completeness": "Does it answer the whole question, including the cases the question implies?",
    "clarity": "Is it direct and easy to act on, without padding?",
}
"""Each criterion is scored 0 to 10; an answer's score is the mean over the criteria."""


@dataclass(frozen=True)
class JudgePrompt:
    """The prompt for the judge and the label -> answer-index mapping hidden from it."""

    system: str
    user: str
    labels: dict[str, int]


class _LabelScores(BaseModel):
    model_config = ConfigDict(extra="ignore")

    label: str
    scores: dict[str, float] = Field(default_factory=dict)
    comment: str | None = None


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    answers: list[_LabelScores]
    winner: str | None = None
    final_answer: str | None = None
    dissent: str | None = None


@dataclass(frozen=True)
class JudgeVerdict:
    """What the judge decided, mapped back from labels to answer indexes."""

    scores: dict[int, float]
    """The mean rubric score (0-10) of each answer index the judge scored."""
    winner: int
    final_answer: str | None
    """A synthesis by the judge, or None when the winner's answer stands as is."""
    dissent: str | None


def _labels(count: int) -> list[str]:
    letters = string.ascii_uppercase
    return [letters[i] if i < len(letters) else f"A{i}" for i in range(count)]


def build_judge_prompt(question: str, answers: Sequence[str], seed: str) -> JudgePrompt:
    """The judge's prompt for ``answers`` to ``question``, anonymised and shuffled.

    Args:
        question: The question the members answered.
        answers: The members' answers (only the ones that answered).
        seed: Fixes the shuffle, so one run always shows the same order (the run id is a good seed).

    Returns:
        The system and user prompts, and which answer index each label stands for.
    """
    order = list(range(len(answers)))
    random.Random(seed).shuffle(order)
    labels = dict(zip(_labels(len(answers)), order, strict=True))
    criteria = "\n".join(f"- {name}: {text}" for name, text in RUBRIC.items())
    system = (
        "You are an impartial judge. Several anonymous assistants answered the same question. Score every "
        "answer on each criterion from 0 (worst) to 10 (best):\n"
        f"{criteria}\n"
        "Judge the content only: ignore length, confidence and style of address. Then pick the best answer. "
        "If the best answer can be improved by combining correct points from others, write that combined "
        "answer as final_answer; otherwise set final_answer to null. In dissent, state in one or two "
        "sentences where the answers disagree, or null when they agree.\n"
        "Reply with JSON only, in this shape:\n"
        '{"answers": [{"label": "A", "scores": {'
        + ", ".join(f'"{name}": 0' for name in RUBRIC)
        + '}, "comment": "..."}], "winner": "A", "final_answer": null, "dissent": null}'
    )
    blocks = [f"### Answer {label}\n{answers[index].strip()}" for label, index in labels.items()]
    user = f"## Question\n{question.strip()}\n\n## Answers\n" + "\n\n".join(blocks)
    return JudgePrompt(system=system, user=user, labels=labels)


def _mean_score(scores: dict[str, float]) -> float | None:
    # The reply is untrusted model output: JSON allows NaN and Infinity, which no scale can hold.
    known = [min(max(scores[name], 0.0), 10.0) for name in RUBRIC if name in scores and math.isfinite(scores[name])]
    return sum(known) / len(known) if known else None


def parse_verdict(reply: str, labels: dict[str, int]) -> JudgeVerdict:
    """Read the judge's JSON reply into a verdict over answer indexes.

    The stated winner is trusted when it is a known label; otherwise the best-scored answer wins (ties: the
    earlier label).

    Raises:
        JudgeError: no JSON, the wrong shape, or no usable score for any shown label.
    """
    try:
        parsed = _Reply.model_validate(json_object(reply))
    except ValidationError as exc:
        raise JudgeError(f"the judge's reply has the wrong shape: {exc.error_count()} error(s)") from exc
    scores: dict[int, float] = {}
    for item in parsed.answers:
        index = labels.get(item.label.strip().upper())
        mean = _mean_score(item.scores)
        if index is not None and mean is not None:
            scores[index] = mean
    if not scores:
        raise JudgeError("the judge scored none of the answers it was shown")
    winner_label = (parsed.winner or "").strip().upper()
    if winner_label in labels:
        winner = labels[winner_label]
    else:
        by_label = sorted(labels.items())
        winner = max((index for _, index in by_label if index in scores), key=lambda index: scores[index])
    final = parsed.final_answer.strip() if parsed.final_answer and parsed.final_answer.strip() else None
    dissent = parsed.dissent.strip() if parsed.dissent and parsed.dissent.strip() else None
    return JudgeVerdict(scores=scores, winner=winner, final_answer=final, dissent=dissent)
