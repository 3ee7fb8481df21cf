"""Agreement between answers: what counts as the same answer, how groups form, the quorum, the dissent."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.engine.consensus.agreement import (
    dissent_summary,
    group_answers,
    normalise_answer,
    quorum_size,
    similarity,
)


def test_normalising_drops_case_markdown_and_punctuation_but_keeps_decimal_points() -> None:
    assert normalise_answer("  **Paris**.  ") == "paris"
    assert normalise_answer("It is 3.14!") == "it is 3.14"
    assert normalise_answer("3.14") != normalise_answer("314")


def test_normalising_takes_the_last_final_answer_line_over_the_explanation() -> None:
    answer = "Let me think.\nAnswer: maybe 41\nOn reflection...\nFinal answer: **42**"
    assert normalise_answer(answer) == "42"


def test_answers_that_differ_only_in_form_are_fully_similar() -> None:
    assert similarity("The capital is Paris.", "the capital is  *Paris*") == 1.0


def test_answers_sharing_no_words_are_not_similar() -> None:
    assert similarity("use a mutex", "rewrite it in rust") == 0.0
    assert similarity("", "") == 1.0


def test_agreeing_answers_form_the_majority_group_and_dissenters_their_own() -> None:
    answers = ["Final answer: 42", "I think... Final answer: 42.", "Final answer: 41", "final answer: 42"]
    grouping = group_answers(answers)
    assert grouping.majority is not None
    assert grouping.majority.members == [0, 1, 3]
    assert grouping.agreement == 0.75
    assert grouping.group_of(2) == 1


def test_members_without_an_answer_join_no_group_and_do_not_count_against_agreement() -> None:
    grouping = group_answers([None, "yes", None, "yes"])
    assert grouping.answered == 2
    assert grouping.agreement == 1.0
    assert grouping.group_of(0) is None


def test_no_answers_have_no_agreement() -> None:
    grouping = group_answers([None, None])
    assert grouping.majority is None
    assert grouping.agreement is None


def test_a_chain_of_partial_overlaps_does_not_merge_answers_that_disagree() -> None:
    a = "w1 w2 w3 w4 w5 w6"
    b = "w2 w3 w4 w5 w6 w7"
    c = "w3 w4 w5 w6 w7 w8"
    assert similarity(a, b) >= 0.6 and similarity(b, c) >= 0.6 and similarity(a, c) < 0.6
    grouping = group_answers([a, b, c])
    assert grouping.group_of(0) == grouping.group_of(1)
    assert grouping.group_of(2) != grouping.group_of(0)


def test_equal_sized_groups_keep_the_one_that_formed_first_as_majority() -> None:
    grouping = group_answers(["red", "blue", "blue", "red"])
    assert grouping.majority is not None
    assert grouping.majority.representative == "red"
    assert grouping.agreement == 0.5


def test_quorum_is_a_strict_majority_of_all_members() -> None:
    assert [quorum_size(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]


def test_dissent_names_each_minority_group_and_quotes_it_shortly() -> None:
    answers = ["Final answer: yes", "Final answer: no, because " + "x " * 200, "Final answer: yes"]
    summary = dissent_summary(group_answers(answers), ["m1", "m2", "m3"])
    assert summary.startswith("m2: Final answer: no, because")
    assert summary.endswith("…")
    assert len(summary) <= 170
    assert dissent_summary(group_answers(["ok", "ok"]), ["m1", "m2"]) == ""


@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "a b", "c d e", ""])), max_size=8))
def test_every_answer_lands_in_exactly_one_group(answers: list[str | None]) -> None:
    grouping = group_answers(answers)
    placed = sorted(index for group in grouping.groups for index in group.members)
    assert placed == [i for i, answer in enumerate(answers) if answer is not None]
    sizes = [len(group.members) for group in grouping.groups]
    assert sizes == sorted(sizes, reverse=True)
