"""What each member is asked: the stance prompts, and the check an answer must pass for ``cheapest``.

A stance (``for``, ``against``, ``neutral``) makes a member argue a side, as PAL's consensus tool offers, so a
decision hears its best case and its worst. Every stance keeps the same floor: the member must stay truthful
and say so when the evidence is overwhelmingly on the other side.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["STANCE_PROMPTS", "Stance", "check_answer", "member_system_prompt"]

Stance = Literal["for", "against", "neutral"]

_FLOOR = (
    " Stay truthful: do not invent facts, and if the evidence is overwhelmingly on the other side, say so "
    "plainly instead of arguing against it."
)

STANCE_PROMPTS: dict[Stance, str] = {
    "for": (
        "You argue FOR the proposal or answer in question. Make the strongest honest case: its benefits, why "
        "its risks are manageable, and how to make it work." + _FLOOR
    ),
    "against": (
        "You argue AGAINST the proposal or answer in question. Make the strongest honest case: its risks, "
        "costs, failure modes and better alternatives." + _FLOOR
    ),
    "neutral": (
        "You weigh the question impartially: the strongest points on each side, then a clear verdict." + _FLOOR
    ),
}

_BASE = "Answer the question directly. End with a line 'Final answer: ...' stating your conclusion in one sentence."

_REFUSAL = re.compile(
    r"^\W*(?:i(?:'m| am)\s+(?:sorry|unable|not able)|i\s+(?:can(?:'t|not)|won't|will not)\s+"
    r"(?:help|assist|answer|provide|comply))",
    re.I,
)
_MIN_CHARS = 1
"""One character is an answer: a choice letter or a digit."""


def member_system_prompt(stance: Stance | None) -> str:
    """The system prompt of a member with ``stance`` (None: no stance, just answer)."""
    if stance is None:
        return _BASE
    return f"{STANCE_PROMPTS[stance]} {_BASE}"


def check_answer(answer: str | None, *, truncated: bool = False) -> str | None:
    """Why an answer is not good enough to stop ``cheapest`` (or to win ``fastest``), or None when it is.

    The check is deliberately mechanical (no second model call): an empty answer, a refusal, or an answer cut
    off by the provider's token limit sends ``cheapest`` on to the next member.

    Args:
        answer: The member's answer text.
        truncated: The provider stopped the answer at its output-token limit.

    Returns:
        A short reason, e.g. ``"empty answer"``, or None when the answer passes.
    """
    text = (answer or "").strip()
    if len(text) < _MIN_CHARS:
        return "empty answer"
    if truncated:
        return "answer cut off at the output-token limit"
    if _REFUSAL.match(text):
        return "the model refused"
    return None
