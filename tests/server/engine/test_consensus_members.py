"""Scheduling members: concurrency, early stop, the one deadline, the start gate, sequential escalation."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from server.engine.consensus.members import Member, MemberOutcome, StopSignal, run_members

pytestmark = pytest.mark.anyio


class ScriptedCalls:
    """A CallMember whose members answer after scripted waits; records how each call ended."""

    def __init__(self, script: dict[int, tuple[float, MemberOutcome]]) -> None:
        self.script = script
        self.ended: dict[int, str] = {}
        self.started: list[int] = []
        self.timeouts: dict[int, float] = {}
        self.release = anyio.Event()

    async def __call__(self, index: int, member: Member, *, timeout_s: float, stop: StopSignal) -> MemberOutcome:
        del member
        self.started.append(index)
        self.timeouts[index] = timeout_s
        delay, outcome = self.script[index]
        try:
            if delay < 0:
                await self.release.wait()
            else:
                await anyio.sleep(delay)
        except anyio.get_cancelled_exc_class():
            self.ended[index] = f"aborted:{stop.reason}"
            raise
        self.ended[index] = outcome.status
        return outcome


MEMBERS = [Member("p1:m"), Member("p2:m"), Member("p3:m")]
NEVER = -1.0


def never_stop(_outcomes: Sequence[MemberOutcome | None]) -> bool:
    return False


def first_answer(outcomes: Sequence[MemberOutcome | None]) -> bool:
    return any(o is not None and o.answered for o in outcomes)


async def test_all_members_run_at_once_and_each_outcome_lands_at_its_index() -> None:
    calls = ScriptedCalls({i: (0.0, MemberOutcome(status="ok", text=f"answer {i}")) for i in range(3)})
    finished: list[tuple[int, int]] = []

    async def on_finish(index: int, outcome: MemberOutcome, count: int) -> None:
        del outcome
        finished.append((index, count))

    with anyio.fail_after(5):
        outcomes = await run_members(MEMBERS, calls, timeout_s=30, should_stop=never_stop, on_finish=on_finish)
    assert [o.text for o in outcomes] == ["answer 0", "answer 1", "answer 2"]
    assert sorted(i for i, _ in finished) == [0, 1, 2]
    assert [count for _, count in finished] == [1, 2, 3]


async def test_a_settled_run_cancels_the_members_still_running() -> None:
    calls = ScriptedCalls(
        {0: (NEVER, MemberOutcome(status="ok", text="late")), 1: (0.0, MemberOutcome(status="ok", text="first"))}
    )
    calls.script[2] = (NEVER, MemberOutcome(status="ok", text="late"))
    with anyio.fail_after(5):
        outcomes = await run_members(MEMBERS, calls, timeout_s=30, should_stop=first_answer)
    assert [o.status for o in outcomes] == ["cancelled", "ok", "cancelled"]
    assert calls.ended == {0: "aborted:cancelled", 1: "ok", 2: "aborted:cancelled"}


async def test_a_member_finishing_while_another_settles_the_run_is_still_reported() -> None:
    # Both answer at once; the first one's notice settles the run while the second's is being sent.
    calls = ScriptedCalls({i: (0.0, MemberOutcome(status="ok", text="same")) for i in range(2)})
    reported: list[int] = []

    async def slow_notice(index: int, outcome: MemberOutcome, count: int) -> None:
        del outcome, count
        await anyio.sleep(0.01 if index == 0 else 0.2)
        reported.append(index)

    def two_answers(outcomes: Sequence[MemberOutcome | None]) -> bool:
        return sum(o is not None and o.answered for o in outcomes) >= 2

    with anyio.fail_after(5):
        await run_members(MEMBERS[:2], calls, timeout_s=30, should_stop=two_answers, on_finish=slow_notice)
    assert sorted(reported) == [0, 1]


async def test_the_deadline_ends_the_run_and_marks_unanswered_members_as_timed_out() -> None:
    calls = ScriptedCalls(
        {
            0: (0.0, MemberOutcome(status="ok", text="in time")),
            1: (NEVER, MemberOutcome(status="ok")),
            2: (NEVER, MemberOutcome(status="ok")),
        }
    )
    with anyio.fail_after(5):
        outcomes = await run_members(MEMBERS, calls, timeout_s=0.05, should_stop=never_stop)
    assert [o.status for o in outcomes] == ["ok", "timeout", "timeout"]
    assert calls.ended[1] == "aborted:timeout"
    assert all(timeout <= 0.05 for timeout in calls.timeouts.values())


async def test_a_gated_member_is_skipped_with_the_gates_reason_and_never_called() -> None:
    calls = ScriptedCalls({i: (0.0, MemberOutcome(status="ok", text="x")) for i in range(3)})
    with anyio.fail_after(5):
        outcomes = await run_members(
            MEMBERS, calls, timeout_s=30, should_stop=never_stop, gate=lambda i: "over the cap" if i == 1 else None
        )
    assert outcomes[1].status == "skipped" and outcomes[1].error == "over the cap"
    assert sorted(calls.started) == [0, 2]


async def test_sequential_runs_escalate_one_by_one_and_stop_at_the_first_good_answer() -> None:
    calls = ScriptedCalls(
        {
            0: (0.0, MemberOutcome(status="server_error", error="500")),
            1: (0.0, MemberOutcome(status="ok", text="good")),
            2: (0.0, MemberOutcome(status="ok", text="never asked")),
        }
    )
    with anyio.fail_after(5):
        outcomes = await run_members(MEMBERS, calls, timeout_s=30, should_stop=first_answer, sequential=True)
    assert calls.started == [0, 1]
    assert [o.status for o in outcomes] == ["server_error", "ok", "skipped"]
