"""The strategies' stop rules and decisions, over scripted member outcomes."""

from __future__ import annotations

from server.engine.consensus.judge import JudgeVerdict
from server.engine.consensus.members import MemberOutcome
from server.engine.consensus.strategies import decide_first_good, decide_judged, decide_vote, stop_rule

LABELS = ["a:1", "b:2", "c:3", "d:4", "e:5"]


def ok(text: str) -> MemberOutcome:
    return MemberOutcome(status="ok", text=text)


FAILED = MemberOutcome(status="timeout", error="slow")


def test_vote_stops_once_a_strict_majority_of_all_members_agrees() -> None:
    rule = stop_rule("vote", 5)
    assert not rule([ok("yes"), ok("yes"), None, None, None])
    assert not rule([ok("yes"), ok("yes"), ok("no"), ok("no"), None])
    assert rule([ok("yes"), ok("yes"), None, ok("yes"), None])


def test_failed_members_never_count_toward_the_quorum() -> None:
    rule = stop_rule("vote", 3)
    assert not rule([FAILED, ok("yes"), None])
    assert rule([FAILED, ok("yes"), ok("Yes.")])


def test_fastest_and_cheapest_stop_at_the_first_good_answer_and_judge_never_stops_early() -> None:
    for strategy in ("fastest", "cheapest"):
        rule = stop_rule(strategy, 3)
        assert not rule([FAILED, None, MemberOutcome(status="rejected", text="")])
        assert rule([FAILED, ok("x"), None])
    assert not stop_rule("judge", 2)([ok("x"), ok("x")])


def test_the_first_good_answer_in_finishing_order_wins() -> None:
    outcomes = [ok("slow"), FAILED, ok("quick")]
    decision = decide_first_good(outcomes, finish_order=[1, 2, 0])
    assert (decision.final, decision.chosen) == ("quick", 2)
    assert decide_first_good([FAILED], [0]).final is None


def test_vote_returns_the_majority_answer_its_share_and_who_dissented() -> None:
    outcomes = [ok("Final answer: 42"), ok("Final answer: 41"), FAILED, ok("final answer: 42."), ok("42")]
    decision = decide_vote(outcomes, LABELS, finish_order=[1, 0, 3, 4, 2])
    assert decision.final == "Final answer: 42"
    assert decision.chosen == 0
    assert decision.agreement == 3 / 5  # the member that timed out ran and did not agree
    assert decision.groups == {0: 0, 3: 0, 4: 0, 1: 1}
    assert decision.dissent == "b:2: Final answer: 41"


def test_vote_between_equal_groups_goes_to_the_group_that_answered_first() -> None:
    decision = decide_vote([ok("red"), ok("blue"), ok("red"), ok("blue")], LABELS, finish_order=[1, 0, 3, 2])
    assert decision.final == "blue"
    assert decision.agreement == 0.5


def test_a_vote_without_answers_has_no_final_answer() -> None:
    decision = decide_vote([FAILED, FAILED], LABELS, finish_order=[0, 1])
    assert decision.final is None
    assert decision.notes == ["no member gave a good answer"]


def test_the_judges_winner_is_mapped_from_the_answers_it_saw_to_member_indexes() -> None:
    outcomes = [FAILED, ok("Paris"), ok("Lyon"), ok("Paris.")]
    verdict = JudgeVerdict(scores={0: 9.0, 1: 3.0, 2: 8.5}, winner=0, final_answer=None, dissent=None)
    decision = decide_judged(outcomes, answered=[1, 2, 3], verdict=verdict, labels=LABELS)
    assert (decision.final, decision.chosen) == ("Paris", 1)
    assert decision.scores == {1: 9.0, 2: 3.0, 3: 8.5}
    assert decision.agreement == 2 / 4  # the failed member counts as not agreeing
    assert decision.dissent == "c:3: Lyon"


def test_a_judges_synthesis_becomes_the_final_answer_and_its_dissent_note_wins() -> None:
    verdict = JudgeVerdict(scores={0: 7.0, 1: 7.0}, winner=1, final_answer="Both: Paris.", dissent="They agree.")
    decision = decide_judged([ok("Paris"), ok("Paris!")], answered=[0, 1], verdict=verdict, labels=LABELS)
    assert (decision.final, decision.chosen) == ("Both: Paris.", None)
    assert decision.dissent == "They agree."


def test_a_long_dissent_from_the_judge_is_kept_short() -> None:
    verdict = JudgeVerdict(scores={0: 7.0}, winner=0, final_answer=None, dissent="They differ. " * 500)
    decision = decide_judged([ok("x"), ok("y")], answered=[0, 1], verdict=verdict, labels=LABELS)
    assert len(decision.dissent) == 1_000 and decision.dissent.endswith("…")


def test_one_answer_and_one_failure_is_not_full_agreement() -> None:
    assert decide_vote([ok("42"), FAILED], LABELS, finish_order=[0, 1]).agreement is None
    verdict = JudgeVerdict(scores={0: 9.0}, winner=0, final_answer=None, dissent=None)
    assert decide_judged([ok("42"), FAILED], answered=[0], verdict=verdict, labels=LABELS).agreement is None


def test_members_cancelled_or_skipped_after_the_result_was_settled_do_not_lower_agreement() -> None:
    outcomes = [ok("42"), ok("42"), MemberOutcome(status="cancelled"), MemberOutcome(status="skipped")]
    assert decide_vote(outcomes, LABELS, finish_order=[0, 1, 2, 3]).agreement == 1.0


def test_long_answers_no_model_grouped_leave_the_vote_unmeasured_with_no_groups_to_learn_from() -> None:
    outcomes = [ok("The migration is safe to run."), ok("The migration is not safe to run."), ok("It is safe.")]
    decision = decide_vote(outcomes, LABELS, finish_order=[0, 1, 2])
    assert decision.final == "The migration is safe to run."
    assert (decision.agreement, decision.groups, decision.dissent) == (None, {}, "")
    assert decision.notes == ["agreement unmeasured: no grouping model was asked"]
    verdict = JudgeVerdict(scores={0: 9.0, 1: 2.0, 2: 8.0}, winner=0, final_answer=None, dissent=None)
    judged = decide_judged(outcomes, answered=[0, 1, 2], verdict=verdict, labels=LABELS)
    assert (judged.agreement, judged.groups) == (None, {})
    assert judged.scores == {0: 9.0, 1: 2.0, 2: 8.0}
