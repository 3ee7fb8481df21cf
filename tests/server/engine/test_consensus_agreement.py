"""Agreement between answers: what counts as the same answer, how groups form, the quorum, the dissent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.engine.consensus.agreement import (
    GroupingError,
    dissent_summary,
    group_by_form,
    grouping_prompt,
    merge_groups,
    normalise_answer,
    parse_groups,
    quorum_size,
    short_form,
)


def test_normalising_drops_case_markdown_and_punctuation_but_keeps_decimal_points() -> None:
    assert normalise_answer("  **Paris**.  ") == "paris"
    assert normalise_answer("It is 3.14!") == "it is 3.14"
    assert normalise_answer("3.14") != normalise_answer("314")


def test_normalising_takes_the_last_final_answer_line_over_the_explanation() -> None:
    answer = "Let me think.\nAnswer: maybe 41\nOn reflection...\nFinal answer: **42**"
    assert normalise_answer(answer) == "42"


@pytest.mark.parametrize(
    ("answer", "form"),
    [
        ("1,000", "number:1000"),
        ("Final answer: 1000.0", "number:1000"),
        ("-2.50", "number:-2.5"),
        ("15%", "number:15%"),
        ("True.", "yes"),
        ("**No**", "no"),
        ("(B)", "choice:b"),
        ("option c", "choice:c"),
        ("`os.path.join`", "id:os.path.join"),
        ("parseConfig", "id:parseConfig"),
        ("Paris", "id:paris"),
        ("close()", "id:close()"),
        ("the migration is safe", None),
        ("It is 42.", None),
        ("", None),
    ],
)
def test_short_answers_have_a_canonical_form_and_long_ones_none(answer: str, form: str | None) -> None:
    assert short_form(answer) == form


def test_short_answers_are_grouped_by_form_and_need_no_model() -> None:
    grouping = group_by_form(["Final answer: 42", "I think... Final answer: 42.", "Final answer: 41", "42"])
    assert grouping.majority is not None and grouping.majority.members == [0, 1, 3]
    assert grouping.agreement == 0.75
    assert grouping.group_of(2) == 1
    assert not grouping.needs_model


def test_long_answers_that_differ_need_a_model_however_many_words_they_share() -> None:
    grouping = group_by_form(["the migration is safe to run", "the migration is not safe to run"])
    assert len(grouping.groups) == 2 and grouping.needs_model


def test_long_answers_equal_once_normalised_agree_without_a_model() -> None:
    grouping = group_by_form(["The migration is **safe**.", "the migration is safe"])
    assert grouping.agreement == 1.0 and not grouping.needs_model


def test_members_without_an_answer_join_no_group_and_do_not_count_against_agreement() -> None:
    grouping = group_by_form([None, "yes", None, "yes"])
    assert grouping.answered == 2
    assert grouping.agreement == 1.0
    assert grouping.group_of(0) is None


def test_no_answers_have_no_agreement() -> None:
    grouping = group_by_form([None, None])
    assert grouping.majority is None
    assert grouping.agreement is None


def test_equal_sized_groups_keep_the_one_that_formed_first_as_majority() -> None:
    grouping = group_by_form(["red", "blue", "blue", "red"])
    assert grouping.majority is not None
    assert grouping.majority.representative == "red"
    assert grouping.agreement == 0.5


def test_a_grouping_models_partition_merges_the_form_groups() -> None:
    answers = ["Use a mutex.", "Rewrite it in Rust.", "Guard it with a lock.", "Use a mutex"]
    grouping = group_by_form(answers)
    prompt = grouping_prompt("How to fix the race?", [group.representative for group in grouping.groups])
    assert "### Answer A\nUse a mutex." in prompt.user and "### Answer C\nGuard it with a lock." in prompt.user
    merged = merge_groups(grouping, parse_groups('{"groups": [["A", "c"], ["B"]]}', prompt.labels))
    assert merged.majority is not None and merged.majority.members == [0, 2, 3]
    assert merged.agreement == 0.75


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("", "empty"),
        ("They agree.", "no JSON"),
        ('{"groups": "A B"}', "expected form"),
        ('{"groups": [["A"]]}', "expected form"),
        ('{"groups": [["A", "B"], ["B"]]}', "expected form"),
        ('{"groups": [["A"], ["B"], []]}', "expected form"),
    ],
)
def test_a_grouping_reply_out_of_form_is_refused_with_why(reply: str, why: str) -> None:
    with pytest.raises(GroupingError, match=why):
        parse_groups(reply, {"A": 0, "B": 1})


def test_quorum_is_a_strict_majority_of_all_members() -> None:
    assert [quorum_size(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]


def test_dissent_names_each_minority_group_and_quotes_it_shortly() -> None:
    answers = ["Final answer: yes", "Final answer: no, because " + "x " * 200, "Final answer: yes"]
    summary = dissent_summary(group_by_form(answers), ["m1", "m2", "m3"])
    assert summary.startswith("m2: Final answer: no, because")
    assert summary.endswith("…")
    assert len(summary) <= 170
    assert dissent_summary(group_by_form(["ok", "ok"]), ["m1", "m2"]) == ""


@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "a b", "c d e", "", "1,0", "10"])), max_size=8))
def test_every_answer_lands_in_exactly_one_group(answers: list[str | None]) -> None:
    grouping = group_by_form(answers)
    placed = sorted(index for group in grouping.groups for index in group.members)
    assert placed == [i for i, answer in enumerate(answers) if answer is not None]
    sizes = [len(group.members) for group in grouping.groups]
    assert sizes == sorted(sizes, reverse=True)
