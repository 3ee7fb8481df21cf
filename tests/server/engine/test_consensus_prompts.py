"""Member prompts with stances, and the mechanical check an answer must pass."""

from __future__ import annotations

import pytest

from server.engine.consensus.prompts import STANCE_PROMPTS, check_answer, member_system_prompt


def test_each_stance_argues_its_side_and_keeps_the_truthfulness_floor() -> None:
    assert "FOR" in member_system_prompt("for")
    assert "AGAINST" in member_system_prompt("against")
    assert "impartially" in member_system_prompt("neutral")
    for stance in STANCE_PROMPTS:
        assert "Stay truthful" in member_system_prompt(stance)
        assert "Final answer:" in member_system_prompt(stance)


def test_without_a_stance_the_member_just_answers() -> None:
    prompt = member_system_prompt(None)
    assert "Final answer:" in prompt
    assert "FOR" not in prompt and "AGAINST" not in prompt


@pytest.mark.parametrize(
    ("answer", "truncated", "reason"),
    [
        (None, False, "empty answer"),
        ("   \n", False, "empty answer"),
        ("A long answer that stops mid", True, "cut off"),
        ("I'm sorry, but I can't help with that.", False, "refused"),
        ("I cannot assist with this request.", False, "refused"),
    ],
)
def test_answers_that_fail_the_check_say_why(answer: str | None, truncated: bool, reason: str) -> None:
    result = check_answer(answer, truncated=truncated)
    assert result is not None and reason in result


def test_a_plain_answer_passes_even_when_it_mentions_what_it_cannot_do() -> None:
    assert check_answer("Use a lock. I cannot see your code, so check the call sites.") is None
    assert check_answer("42") is None
