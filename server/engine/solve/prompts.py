"""What ``solve`` asks: a fresh answer (wider), a refinement given the parent and its scorer's words (deeper),
and the judge's rubric, whose reply is a score in [0, 1] and a short critique."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, ValidationError

from server.engine.runs.replies import JudgeError, json_object

__all__ = [
    "ANSWER_SYSTEM",
    "CRITIQUE_CHARS",
    "JUDGE_SYSTEM",
    "JudgeScore",
    "deeper_prompt",
    "judge_prompt",
    "parse_judge_score",
    "wider_prompt",
]

ANSWER_SYSTEM = (
    "Solve the task. Reply with the complete answer only (the whole code or text, not a diff or a summary): "
    "it is scored as it stands."
)
JUDGE_SYSTEM = (
    "You are a strict grader. Score the candidate answer to the task from 0 (useless or wrong) to 1 (correct, "
    "complete and ready to use), judging correctness first, then completeness, then clarity; ignore length and "
    "tone. Then say in at most three sentences what is wrong or missing, so a next attempt can fix it. "
    'Reply with JSON only: {"score": 0.0, "critique": "..."}'
)
CRITIQUE_CHARS = 1_000
"""A critique is cut to this: it rides along in every refinement prompt of the node's subtree."""


class JudgeScore(BaseModel):
    """The judge's verdict on one answer."""

    model_config = ConfigDict(extra="ignore")

    score: float
    critique: str = ""


def wider_prompt(task: str) -> str:
    return task.strip()


def deeper_prompt(task: str, parent_answer: str, parent_score: float, feedback: str) -> str:
    """Ask for an improved answer: the task, the parent's answer, and what its scorer said about it."""
    said = feedback.strip() or "(the scorer said nothing more)"
    return (
        f"## Task\n{task.strip()}\n\n## A previous answer (scored {parent_score:.2f} of 1)\n{parent_answer.strip()}\n\n"
        f"## What the scorer said about it\n{said}\n\n"
        "Write an improved, complete answer that fixes what the scorer found."
    )


def judge_prompt(task: str, answer: str) -> str:
    return f"## Task\n{task.strip()}\n\n## Candidate answer\n{answer.strip()}"


def parse_judge_score(reply: str) -> JudgeScore:
    """The judge's score and critique from its reply.

    Raises:
        JudgeError: no JSON object, the wrong shape, or a score that is not a finite number in [0, 1].
    """
    try:
        parsed = JudgeScore.model_validate(json_object(reply))
    except ValidationError as exc:
        raise JudgeError(f"the judge's reply has the wrong shape: {exc.error_count()} error(s)") from exc
    if not (math.isfinite(parsed.score) and 0.0 <= parsed.score <= 1.0):
        raise JudgeError(f"the judge's score {parsed.score} is not a number in [0, 1]")
    critique = parsed.critique.strip()
    if len(critique) > CRITIQUE_CHARS:
        critique = critique[: CRITIQUE_CHARS - 1].rstrip() + "…"
    return JudgeScore(score=parsed.score, critique=critique)
