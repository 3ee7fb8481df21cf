"""The judge's anonymised rubric prompt and the parsing of its verdict."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.engine.consensus.judge import RUBRIC, JudgeError, build_judge_prompt, parse_verdict

ANSWERS = ["Paris is the capital.", "Lyon, I believe.", "Paris."]


def _reply(scores: dict[str, float], **fields: object) -> str:
    answers = [{"label": label, "scores": dict.fromkeys(RUBRIC, score)} for label, score in scores.items()]
    return json.dumps({"answers": answers, **fields})


def test_the_judge_sees_every_answer_under_a_letter_and_no_model_name() -> None:
    prompt = build_judge_prompt("Capital of France?", ANSWERS, seed="run-1")
    assert sorted(prompt.labels) == ["A", "B", "C"]
    assert sorted(prompt.labels.values()) == [0, 1, 2]
    for label, index in prompt.labels.items():
        assert f"### Answer {label}\n{ANSWERS[index]}" in prompt.user
    for model in ("openai", "groq", "gpt", "llama"):
        assert model not in prompt.user.lower()
    for criterion in RUBRIC:
        assert criterion in prompt.system


def test_the_shuffle_is_fixed_by_the_seed() -> None:
    answers = [f"answer {i}" for i in range(8)]
    first = build_judge_prompt("q", answers, seed="run-1").labels
    assert build_judge_prompt("q", answers, seed="run-1").labels == first
    orders = {tuple(build_judge_prompt("q", answers, seed=f"run-{i}").labels.values()) for i in range(5)}
    assert len(orders) > 1


def test_the_stated_winner_is_mapped_back_to_its_answer() -> None:
    prompt = build_judge_prompt("Capital of France?", ANSWERS, seed="s")
    label_of = {index: label for label, index in prompt.labels.items()}
    reply = _reply({label_of[0]: 9, label_of[1]: 2, label_of[2]: 8}, winner=label_of[2], dissent="One says Lyon.")
    verdict = parse_verdict(reply, prompt.labels)
    assert verdict.winner == 2
    assert verdict.scores == {0: 9.0, 1: 2.0, 2: 8.0}
    assert verdict.final_answer is None
    assert verdict.dissent == "One says Lyon."


def test_a_reply_in_a_code_fence_with_prose_around_it_parses() -> None:
    reply = 'Here is my verdict:\n```json\n{"answers": [{"label": "b", "scores": {"correctness": 7}}], ' + (
        '"winner": "B", "final_answer": "  Paris, the capital.  "}\n```\nThanks.'
    )
    verdict = parse_verdict(reply, {"A": 0, "B": 1})
    assert verdict.winner == 1
    assert verdict.final_answer == "Paris, the capital."


def test_without_a_known_winner_the_best_score_wins_and_ties_go_to_the_earlier_label() -> None:
    labels = {"A": 2, "B": 0, "C": 1}
    assert parse_verdict(_reply({"A": 5, "B": 9, "C": 9}, winner="Z"), labels).winner == 0
    assert parse_verdict(_reply({"A": 5, "B": 6, "C": 9}), labels).winner == 1


def test_scores_outside_the_scale_are_clamped_and_unknown_criteria_ignored() -> None:
    reply = json.dumps({"answers": [{"label": "A", "scores": {"correctness": 15, "clarity": -3, "vibes": 10}}]})
    assert parse_verdict(reply, {"A": 0}).scores == {0: 5.0}


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("I pick answer A.", "no JSON"),
        ('{"answers": [', "not valid JSON"),
        ('{"winner": "A"}', "wrong shape"),
        ('{"answers": [{"label": "Q", "scores": {"correctness": 9}}]}', "scored none"),
        ('{"answers": [{"label": "A", "scores": {"style": 9}}]}', "scored none"),
    ],
)
def test_an_unusable_reply_is_a_judge_error_saying_why(reply: str, reason: str) -> None:
    with pytest.raises(JudgeError, match=reason):
        parse_verdict(reply, {"A": 0, "B": 1})


def test_non_finite_scores_count_as_no_score() -> None:
    reply = '{"answers": [{"label": "A", "scores": {"correctness": NaN, "clarity": Infinity}}, ' + (
        '{"label": "B", "scores": {"correctness": 4}}]}'
    )
    verdict = parse_verdict(reply, {"A": 0, "B": 1})
    assert verdict.scores == {1: 4.0}
    assert verdict.winner == 1


_json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
_scores = st.dictionaries(st.sampled_from([*RUBRIC, "style"]), st.floats() | st.integers() | st.text(max_size=3))
_scored = st.fixed_dictionaries({"label": st.sampled_from("ABCZ"), "scores": _scores | _json_values})
_shaped = st.fixed_dictionaries(
    {"answers": st.lists(_scored, max_size=3)},
    optional={"winner": _json_values, "final_answer": _json_values, "dissent": _json_values},
)


@given(st.one_of(st.text(max_size=200), _json_values.map(json.dumps), _shaped.map(json.dumps)))
def test_any_reply_gives_a_verdict_on_the_shown_answers_or_a_judge_error(reply: str) -> None:
    labels = {"A": 0, "B": 1, "C": 2}
    try:
        verdict = parse_verdict(reply, labels)
    except JudgeError:
        return
    assert verdict.winner in labels.values()
    assert verdict.scores and all(0.0 <= score <= 10.0 for score in verdict.scores.values())
