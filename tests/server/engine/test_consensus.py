"""The consensus engine against a fake OpenAI-compatible API on loopback: strategies, cancellation, records."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.classify import classify
from server.config import SwitchboardConfig
from server.engine.consensus.compact import consensus_result
from server.engine.consensus.members import Member
from server.engine.consensus.run import ConsensusSpec, run_consensus
from server.engine.output import CHARS_PER_TOKEN
from server.engine.runtime import Runtime
from server.settings import Settings
from server.store.models import BudgetReservation, ConsensusRun, Delegation, StoredOutput
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.server.recorded import recorded

pytestmark = pytest.mark.anyio

MODELS = ["m1", "m2", "m3", "m4", "m5", "judge"]
HANG = Reply(kind="hang")


def config_for(fake: FakeOpenAI, **sections: Any) -> SwitchboardConfig:
    """Providers p1..p5 and pj, one model each, all served by ``fake``; p<i> costs i $/Mtok out."""
    providers: dict[str, Any] = {}
    for i, model in enumerate(MODELS, start=1):
        name = "pj" if model == "judge" else f"p{i}"
        providers[name] = {
            "kind": "openai-compatible",
            "base_url": fake.base_url,
            "models": [model],
            "prices": {model: {"input_per_mtok": 0.0, "output_per_mtok": float(i)}},
        }
    return SwitchboardConfig.model_validate({"providers": providers, **sections})


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=MODELS) as server:
        yield server


@pytest.fixture
async def runtime(settings: Settings, engine: Engine, fake: FakeOpenAI) -> AsyncIterator[Runtime]:
    runtime = Runtime.create(settings, config_for(fake), engine, environ={"CLAUDE_CODE_SESSION_ID": "sess-c"})
    yield runtime
    await runtime.aclose()


def seats(*models: str) -> tuple[Member, ...]:
    return tuple(Member(f"p{model[1:]}:{model}" if model != "judge" else "pj:judge") for model in models)


def ok(text: str, delay_s: float = 0.0) -> Reply:
    return Reply(text=text, delay_s=delay_s)


def delegations(engine: Engine, run_id: str) -> dict[str, Delegation]:
    with recorded(engine) as db:
        rows = db.exec(select(Delegation).where(Delegation.consensus_run_id == run_id).order_by(col(Delegation.id)))
        return {row.model: row for row in rows}


def run_row(engine: Engine, run_id: str) -> ConsensusRun:
    with recorded(engine) as db:
        row = db.get(ConsensusRun, run_id)
        assert row is not None
        return row


async def consensus(runtime: Runtime, members: tuple[Member, ...], **options: Any) -> Any:
    with anyio.fail_after(20):
        return await run_consensus(runtime, ConsensusSpec(question="What is 6 x 7?", members=members, **options))


async def test_vote_returns_the_majority_answer_with_its_agreement_and_records_the_run(
    runtime: Runtime, engine: Engine, fake: FakeOpenAI
) -> None:
    # The dissenter answers first, so the run hears all three before the pair makes a quorum.
    fake.script("m1", ok("6 x 7 is... Final answer: 42", delay_s=0.3))
    fake.script("m2", ok("Final answer: **42**.", delay_s=0.3))
    fake.script("m3", ok("Final answer: 41"))
    result = await consensus(runtime, seats("m1", "m2", "m3"), strategy="vote")
    assert result.status == "ok"
    assert result.final_answer in ("6 x 7 is... Final answer: 42", "Final answer: **42**.")
    assert result.agreement == pytest.approx(2 / 3)
    assert result.dissent == "p3:m3: Final answer: 41"
    assert {m.model: m.group for m in result.members} == {"p1:m1": 0, "p2:m2": 0, "p3:m3": 1}
    assert result.total_cost_usd == pytest.approx((1 + 2 + 3) * 7 / 1e6)
    rows = delegations(engine, result.run_id)
    assert set(rows) == {"m1", "m2", "m3"}
    assert all(row.status == "ok" and row.session_id == "sess-c" for row in rows.values())
    run = run_row(engine, result.run_id)
    assert (run.strategy, run.status, run.session_id) == ("vote", "ok", "sess-c")
    assert run.agreement == pytest.approx(2 / 3)
    assert run.total_cost_usd == pytest.approx(result.total_cost_usd)
    with recorded(engine) as db:
        final = db.get(StoredOutput, run.final_output_id)
        assert final is not None and final.content == result.final_answer


async def test_vote_stops_at_a_quorum_and_really_aborts_the_members_still_running(
    runtime: Runtime, engine: Engine, fake: FakeOpenAI
) -> None:
    for model in ("m1", "m2", "m3"):
        fake.script(model, ok("Final answer: 42"))
    fake.script("m4", HANG)
    fake.script("m5", HANG)
    result = await consensus(runtime, seats("m1", "m2", "m3", "m4", "m5"), strategy="vote")
    assert result.final_answer == "Final answer: 42"
    assert result.agreement == 1.0
    assert [m.status for m in result.members] == ["ok", "ok", "ok", "cancelled", "cancelled"]
    assert fake.wait_hangups(2, timeout_s=5), fake.hangups
    assert sorted(fake.hangups) == ["m4", "m5"]
    rows = delegations(engine, result.run_id)
    assert (rows["m4"].status, rows["m5"].status) == ("cancelled", "cancelled")


async def test_fastest_takes_the_first_good_answer_and_cancels_the_rest_at_once(
    runtime: Runtime, fake: FakeOpenAI
) -> None:
    fake.script("m1", HANG)
    fake.script("m2", ok("", delay_s=0.0))
    fake.script("m3", ok("Final answer: 42", delay_s=0.05))
    fake.script("m4", HANG)
    result = await consensus(runtime, seats("m1", "m2", "m3", "m4"), strategy="fastest")
    assert (result.final_answer, result.chosen) == ("Final answer: 42", "p3:m3")
    assert [m.status for m in result.members] == ["cancelled", "rejected", "ok", "cancelled"]
    assert result.members[1].error == "empty answer"
    assert fake.wait_hangups(2, timeout_s=5)
    assert sorted(fake.hangups) == ["m1", "m4"]


def _labels_in(judge_request: dict[str, Any]) -> dict[str, str]:
    user = judge_request["messages"][-1]["content"]
    return {
        m["label"]: m["text"].strip()
        for m in re.finditer(r"### Answer (?P<label>[A-Z])\n(?P<text>.*?)(?=\n\n###|\Z)", user, re.S)
    }


def _judge_reply(winner: str, **extra: Any) -> str:
    scores = {"correctness": 9, "completeness": 8, "clarity": 7}
    answers = [{"label": label, "scores": scores} for label in "ABC"]
    return "```json\n" + json.dumps({"answers": answers, "winner": winner, **extra}) + "\n```"


async def test_the_judge_scores_anonymous_answers_and_its_pick_becomes_the_final_answer(
    runtime: Runtime, engine: Engine, fake: FakeOpenAI
) -> None:
    fake.script("m1", ok("Final answer: 42"))
    fake.script("m2", ok("Final answer: 41"))
    fake.script("m3", ok("Final answer: forty-two"))
    # "forty-two" is a long answer: the judge, not a member, is then also asked which answers agree.
    grouped = ok(json.dumps({"groups": [["A", "C"], ["B"]]}))
    fake.script("judge", ok(_judge_reply("B", dissent="One member says 41.")), grouped)
    result = await consensus(runtime, seats("m1", "m2", "m3"), strategy="judge", judge="pj:judge")
    judge_request, grouping_request = [body for body in fake.requests if body["model"] == "judge"]
    assert "give the same answer" in json.dumps(grouping_request)
    shown = json.dumps(judge_request)
    assert not any(name in shown for name in ("p1:m1", "p2:m2", "p3:m3", '"m1"', '"m2"', '"m3"'))
    labels = _labels_in(judge_request)
    assert sorted(labels.values()) == ["Final answer: 41", "Final answer: 42", "Final answer: forty-two"]
    assert result.final_answer == labels["B"]
    assert result.chosen == next(m.model for m in result.members if m.answer == labels["B"])
    assert result.dissent == "One member says 41."
    assert all(m.score == pytest.approx(8.0) for m in result.members)
    assert result.agreement == pytest.approx(2 / 3)
    assert result.judge is not None and (result.judge.model, result.judge.status) == ("pj:judge", "ok")
    with recorded(engine) as db:
        rows = db.exec(select(Delegation).where(Delegation.consensus_run_id == result.run_id)).all()
    assert sorted(row.role or "" for row in rows if row.model == "judge") == ["grouping", "judge"]
    assert sorted(row.role or "" for row in rows if row.model != "judge") == ["member"] * 3
    # Every row names the question's task type, not what the call was for.
    assert {row.task_type for row in rows} == {classify("What is 6 x 7?")}
    assert result.total_cost_usd == pytest.approx((1 + 2 + 3 + 6 + 6) * 7 / 1e6)


async def test_a_judges_synthesis_is_returned_as_the_judges_own_answer(runtime: Runtime, fake: FakeOpenAI) -> None:
    fake.script("m1", ok("Use a lock."))
    fake.script("m2", ok("Use a queue."))
    fake.script("judge", ok(_judge_reply("A", final_answer="Use a queue; a lock also works.")))
    result = await consensus(runtime, seats("m1", "m2"), strategy="judge", judge="pj:judge")
    assert (result.final_answer, result.chosen) == ("Use a queue; a lock also works.", "judge")


@pytest.mark.parametrize("judge_reply", [Reply.error(500), ok("I prefer the second answer.")])
async def test_a_failing_judge_falls_back_to_voting(runtime: Runtime, fake: FakeOpenAI, judge_reply: Reply) -> None:
    fake.script("m1", ok("Final answer: 42"))
    fake.script("m2", ok("Final answer: 41"))
    fake.script("m3", ok("Final answer: 42"))
    fake.script("judge", judge_reply)
    result = await consensus(runtime, seats("m1", "m2", "m3"), strategy="judge", judge="pj:judge")
    assert result.status == "ok"
    assert result.final_answer == "Final answer: 42"
    assert result.agreement == pytest.approx(2 / 3)
    assert len(result.notes) == 1 and result.notes[0].endswith("fell back to vote")
    assert result.judge is not None and result.judge.status in ("server_error", "rejected")


async def test_a_failing_member_is_reported_and_not_fatal(runtime: Runtime, engine: Engine, fake: FakeOpenAI) -> None:
    # The agreeing pair answers late, so the quorum is not reached before the failure is heard.
    fake.script("m1", ok("Final answer: 42", delay_s=0.3))
    fake.script("m2", Reply.error(500))
    fake.script("m3", ok("Final answer: 42", delay_s=0.3))
    result = await consensus(runtime, seats("m1", "m2", "m3"), strategy="vote")
    # The member that failed did not agree: two of the three that ran (it was reported as 1.0).
    assert result.status == "ok" and result.agreement == pytest.approx(2 / 3)
    failed = result.members[1]
    assert failed.status == "server_error" and failed.error and failed.answer is None
    assert delegations(engine, result.run_id)["m2"].status == "server_error"


async def test_cheapest_escalates_past_a_bad_answer_and_never_asks_the_dearer_members(
    runtime: Runtime, fake: FakeOpenAI
) -> None:
    fake.script("m1", ok("I'm sorry, but I can't help with that."))
    fake.script("m2", ok("Final answer: 42"))
    result = await consensus(runtime, seats("m3", "m2", "m1"), strategy="cheapest")
    assert [m.model for m in result.members] == ["p1:m1", "p2:m2", "p3:m3"]
    assert [m.status for m in result.members] == ["rejected", "ok", "skipped"]
    assert (result.final_answer, result.chosen) == ("Final answer: 42", "p2:m2")
    assert fake.calls_for("m3") == 0


async def test_cheapest_escalates_past_an_answer_cut_off_at_the_output_limit(
    runtime: Runtime, fake: FakeOpenAI
) -> None:
    fake.script("m1", Reply(text="Final answer: it depends on", finish_reason="length"))
    fake.script("m2", ok("Final answer: 42"))
    result = await consensus(runtime, seats("m1", "m2"), strategy="cheapest")
    assert [m.status for m in result.members] == ["rejected", "ok"]
    assert "cut off" in (result.members[0].error or "")
    assert result.final_answer == "Final answer: 42"


async def test_the_cost_cap_skips_members_whose_worst_case_does_not_fit(
    runtime: Runtime, engine: Engine, fake: FakeOpenAI
) -> None:
    # Output allowance under a cap is 4,096 tokens: p1 costs up to $0.004096, p2 $0.008192, p3 $0.012288.
    result = await consensus(runtime, seats("m1", "m2", "m3"), strategy="vote", max_cost_usd=0.0125)
    assert [m.status for m in result.members] == ["ok", "ok", "skipped"]
    assert result.members[2].error is not None and "cost cap" in result.members[2].error
    assert fake.calls_for("m3") == 0
    assert all(body["max_tokens"] == 4096 for body in fake.requests)
    assert result.total_cost_usd is not None and result.total_cost_usd <= 0.0125
    rows = delegations(engine, result.run_id)
    # The skipped member made no call: its row is the user's cap's refusal, $0, never the model's failure.
    assert {model: row.status for model, row in rows.items()} == {"m1": "ok", "m2": "ok", "m3": "cost_cap"}
    assert rows["m3"].cost_usd == 0.0 and rows["m3"].role == "member"


async def test_members_still_running_at_the_deadline_time_out_and_the_rest_decide(
    runtime: Runtime, engine: Engine, fake: FakeOpenAI
) -> None:
    fake.script("m1", ok("Final answer: 42"))
    fake.script("m2", HANG)
    fake.script("m3", ok("Final answer: 42"))
    fake.script("m4", HANG)
    result = await consensus(runtime, seats("m1", "m2", "m3", "m4"), strategy="vote", timeout_s=0.5)
    assert [m.status for m in result.members] == ["ok", "timeout", "ok", "timeout"]
    assert result.final_answer == "Final answer: 42"
    assert fake.wait_hangups(2, timeout_s=5)
    assert delegations(engine, result.run_id)["m2"].status == "timeout"


async def test_no_good_answer_is_a_failed_run_that_says_why_per_member(
    runtime: Runtime, engine: Engine, fake: FakeOpenAI
) -> None:
    fake.script("m1", Reply.error(500))
    result = await consensus(runtime, (*seats("m1"), Member("nowhere:x")), strategy="judge", judge="pj:judge")
    assert result.status == "failed" and result.final_answer is None
    assert [m.status for m in result.members] == ["server_error", "skipped"]
    assert "no such configured model" in (result.members[1].error or "")
    assert run_row(engine, result.run_id).status == "failed"


async def test_long_answers_are_cut_and_kept_whole_under_their_ids(
    settings: Settings, engine: Engine, fake: FakeOpenAI
) -> None:
    config = config_for(fake, output={"max_output_tokens": 2_000})
    runtime = Runtime.create(settings, config, engine, environ={})
    long_answer = "Final answer: 42. " + "Because " * 1_000
    fake.script("m1", ok(long_answer))
    fake.script("m2", ok(long_answer))
    try:
        result = await consensus(runtime, seats("m1", "m2"), strategy="vote")
    finally:
        await runtime.aclose()
    assert result.final_truncated and result.final_answer is not None
    assert len(result.final_answer) < len(long_answer) and result.final_output_id in result.final_answer
    assert all(m.answer_truncated and m.output_id for m in result.members)
    with recorded(engine) as db:
        for stored_id in {result.final_output_id, *(m.output_id for m in result.members)}:
            stored = db.get(StoredOutput, stored_id)
            assert stored is not None and stored.content == long_answer
    rows = delegations(engine, result.run_id)
    assert {row.output_id for row in rows.values()} == {m.output_id for m in result.members}


async def test_a_run_the_client_cancels_aborts_its_members_and_is_still_recorded(
    runtime: Runtime, engine: Engine, fake: FakeOpenAI
) -> None:
    # m1's scripted latency leaves the other requests time to reach the fake before the client cancels.
    fake.script("m1", ok("Final answer: 42", delay_s=0.1))
    fake.script("m2", HANG)
    fake.script("m3", HANG)
    spec = ConsensusSpec(question="q", members=seats("m1", "m2", "m3"), strategy="judge", judge="pj:judge")
    first_answered = anyio.Event()

    async def progress(done: float, total: float | None, message: str) -> None:
        first_answered.set()

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: run_consensus(runtime, spec, progress=progress))
            await first_answered.wait()
            group.cancel_scope.cancel()
    assert fake.wait_hangups(2, timeout_s=5)
    with recorded(engine) as db:
        run = db.exec(select(ConsensusRun)).one()
        rows = db.exec(select(Delegation).where(Delegation.consensus_run_id == run.id)).all()
    assert run.status == "cancelled"
    assert sorted((row.model, row.status) for row in rows) == [("m1", "ok"), ("m2", "cancelled"), ("m3", "cancelled")]
    assert runtime.breakers["p2"].consecutive_failures == 0


async def test_the_daily_budget_counts_the_runs_own_members_before_they_are_recorded(
    settings: Settings, engine: Engine, fake: FakeOpenAI
) -> None:
    # Worst cases under the default 1,000-token estimate are unknown here, so use a cap to fix max_tokens
    # at 4,096: p1 up to $0.004096, p2 $0.008192; a daily budget of $0.01 fits p1, then not p2.
    config = config_for(fake, budgets={"daily_usd": 0.01})
    runtime = Runtime.create(settings, config, engine, environ={})
    try:
        result = await consensus(runtime, seats("m1", "m2"), strategy="vote", max_cost_usd=1.0)
    finally:
        await runtime.aclose()
    assert [m.status for m in result.members] == ["ok", "skipped"]
    assert "daily cap" in (result.members[1].error or "")
    assert fake.calls_for("m2") == 0


async def test_a_consensus_runs_budget_reservation_is_labelled_consensus_while_its_members_are_in_flight(
    settings: Settings, engine: Engine
) -> None:
    labels: list[str] = []

    def respond(body: dict[str, Any]) -> Reply | None:
        # Read in the fake's thread while the run waits on this member: its reservation is not settled yet.
        with Session(engine) as db:
            labels.extend(row.model for row in db.exec(select(BudgetReservation)).all())
        return ok("Final answer: 42")

    with FakeOpenAI(models=MODELS, responder=respond) as fake:
        runtime = Runtime.create(settings, config_for(fake, budgets={"daily_usd": 5.0}), engine, environ={})
        try:
            result = await consensus(runtime, seats("m1", "m2"), strategy="vote")
        finally:
            await runtime.aclose()
    assert result.status == "ok"
    assert labels and set(labels) == {"consensus"}, labels


async def test_the_whole_result_fits_the_clients_output_limit_however_long_the_answers(
    runtime: Runtime, fake: FakeOpenAI
) -> None:
    # Five different conclusions: no quorum, so all five long answers are in the result.
    for i, model in enumerate(("m1", "m2", "m3", "m4", "m5")):
        fake.script(model, ok("word " * 20_000 + f"\nFinal answer: {i}"))
    result = await consensus(runtime, seats("m1", "m2", "m3", "m4", "m5"), strategy="vote")
    assert result.agreement == 0.2
    assert all(m.answer_truncated for m in result.members) and result.final_truncated
    limit_chars = runtime.config.output.max_output_tokens * CHARS_PER_TOKEN
    assert len(result.model_dump_json()) <= limit_chars
    # Everything the client receives: the text content and the structured copy together.
    sent = consensus_result(result)
    text = "".join(getattr(block, "text", "") for block in sent.content)
    assert len(text) + len(json.dumps(sent.structured_content, ensure_ascii=False)) <= limit_chars


async def test_a_run_ends_within_the_clients_tool_timeout_judge_included(
    settings: Settings, engine: Engine, fake: FakeOpenAI
) -> None:
    # Claude Code passes MCP_TOOL_TIMEOUT to the server and does not extend it on progress notifications. 2 s: the
    # members get half of the 1.8 s left, and the judge the rest (0.9 s, more than the 0.5 s a call is started with).
    runtime = Runtime.create(settings, config_for(fake), engine, environ={"MCP_TOOL_TIMEOUT": "2000"})
    fake.script("m1", ok("Final answer: 42"))
    fake.script("m2", ok("Final answer: 42"))
    fake.script("m3", HANG)
    fake.script("judge", HANG)
    try:
        result = await consensus(runtime, seats("m1", "m2", "m3"), strategy="judge", judge="pj:judge", timeout_s=30)
    finally:
        await runtime.aclose()
    assert result.latency_ms < 2_000
    # Cut by the client's tool timeout, not by their own: recorded as such, never as the models' failure.
    assert [m.status for m in result.members] == ["ok", "ok", "deadline"]
    assert result.judge is not None and result.judge.status == "deadline"
    rows = delegations(engine, result.run_id)
    assert rows["m3"].status == "deadline" and rows["judge"].status == "deadline"
    assert result.final_answer == "Final answer: 42"
    assert "client's tool timeout" in result.notes[0] and result.notes[-1].endswith("fell back to vote")
    assert fake.wait_hangups(2, timeout_s=5)
    assert sorted(fake.hangups) == ["judge", "m3"]


@pytest.mark.parametrize(("value", "seconds"), [("120000", 120.0), ("soon", None), ("0", None), ("", None)])
def test_only_a_positive_mcp_tool_timeout_bounds_the_run(
    settings: Settings, engine: Engine, fake: FakeOpenAI, value: str, seconds: float | None
) -> None:
    runtime = Runtime.create(settings, config_for(fake), engine, environ={"MCP_TOOL_TIMEOUT": value})
    assert runtime.client_timeout_s == seconds


async def test_one_answer_beside_a_failure_is_no_agreement_at_all(runtime: Runtime, fake: FakeOpenAI) -> None:
    fake.script("m1", ok("Final answer: 42"))
    fake.script("m2", Reply.error(500))
    result = await consensus(runtime, seats("m1", "m2"), strategy="vote")
    assert result.status == "ok" and result.final_answer == "Final answer: 42"
    assert result.agreement is None


async def test_a_member_whose_cost_is_unknown_makes_the_total_unknown_and_the_known_part_is_kept(
    runtime: Runtime, engine: Engine, fake: FakeOpenAI
) -> None:
    fake.script("m1", ok("Final answer: 42"))
    fake.script("m2", ok("Final answer: 41"))  # no quorum yet: the run waits for m3
    fake.script("m3", HANG)  # times out: it may have run, so its cost is unknown, not $0
    result = await consensus(runtime, seats("m1", "m2", "m3"), strategy="vote", timeout_s=1.0)
    assert [m.status for m in result.members] == ["ok", "ok", "timeout"]
    known = (1 + 2) * 7 / 1e6
    assert result.total_cost_usd is None and result.cost_known_usd == pytest.approx(known)
    row = run_row(engine, result.run_id)
    assert row.total_cost_usd is None and row.cost_known_usd == pytest.approx(known)
    assert delegations(engine, result.run_id)["m3"].cost_usd is None


async def test_cancelled_members_are_counted_as_unknown_cost_not_dropped(
    runtime: Runtime, engine: Engine, fake: FakeOpenAI
) -> None:
    fake.script("m1", ok("Final answer: 42"))
    fake.script("m2", HANG)
    result = await consensus(runtime, seats("m1", "m2"), strategy="fastest")
    assert [m.status for m in result.members] == ["ok", "cancelled"]
    row = run_row(engine, result.run_id)
    assert row.total_cost_usd is None and row.cost_known_usd == pytest.approx(7 / 1e6)
    assert result.total_cost_usd is None
