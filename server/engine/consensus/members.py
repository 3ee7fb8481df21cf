"""Running the members: all at once (or one by one), under one deadline, stopping early when the result is settled.

Each member is one model call made through a :data:`CallMember` function, which owns the provider call and its
delegation row. This module owns only the scheduling: start the members, collect their outcomes as they finish,
tell a progress callback, and cancel whatever is still running once a stop rule says the answer is settled or
the deadline passes. Cancelling a member's task aborts its HTTP request (the provider sees the connection close).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import anyio

from server.engine.consensus.prompts import Stance
from server.engine.runs.outcome import MemberOutcome, StopSignal

__all__ = [
    "CallMember",
    "Member",
    "MemberOutcome",
    "OnFinish",
    "ShouldStop",
    "StartGate",
    "StopSignal",
    "run_members",
]


@dataclass(frozen=True)
class Member:
    """One seat at the table: a ``provider:model`` id and an optional stance."""

    model: str
    stance: Stance | None = None


class CallMember(Protocol):
    """Ask one member; must record the attempt, and on cancellation record ``stop.reason`` and re-raise."""

    def __call__(self, index: int, member: Member, *, timeout_s: float, stop: StopSignal) -> Awaitable[MemberOutcome]:
        """Run member ``index``; ``timeout_s`` is what is left of the run's deadline."""
        ...


ShouldStop = Callable[[Sequence[MemberOutcome | None]], bool]
"""Given the outcomes so far (None: still running or not started), whether the result is settled."""

StartGate = Callable[[int], str | None]
"""Asked before member ``index`` starts: a reason to skip it (e.g. the cost cap), or None to go ahead."""

OnFinish = Callable[[int, MemberOutcome, int], Awaitable[None]]
"""Told ``(index, outcome, finished_count)`` as each member ends (progress notifications)."""


@dataclass
class _Run:
    members: Sequence[Member]
    call: CallMember
    should_stop: ShouldStop
    gate: StartGate
    on_finish: OnFinish | None
    deadline: float
    outcomes: list[MemberOutcome | None] = field(default_factory=list[MemberOutcome | None])
    stop: StopSignal = field(default_factory=StopSignal)
    started: set[int] = field(default_factory=set[int])
    finished: int = 0

    def remaining_s(self) -> float:
        return max(0.0, self.deadline - anyio.current_time())

    async def finish(self, index: int, outcome: MemberOutcome) -> None:
        self.outcomes[index] = outcome
        self.finished += 1
        if self.on_finish is not None:
            # Another member may settle the run while this one's notice is being sent; the settle check cancels
            # the group, which would drop the notice half-sent. Shielded, every finished member is reported.
            with anyio.CancelScope(shield=True):
                await self.on_finish(index, outcome, self.finished)

    async def start(self, index: int) -> bool:
        """Run member ``index`` to its end; False when the gate skipped it."""
        reason = self.gate(index)
        if reason is not None:
            await self.finish(index, MemberOutcome(status="skipped", error=reason))
            return False
        self.started.add(index)
        outcome = await self.call(index, self.members[index], timeout_s=self.remaining_s(), stop=self.stop)
        await self.finish(index, outcome)
        return True


async def run_members(
    members: Sequence[Member],
    call: CallMember,
    *,
    timeout_s: float,
    should_stop: ShouldStop,
    gate: StartGate | None = None,
    on_finish: OnFinish | None = None,
    sequential: bool = False,
    deadline_reason: Literal["timeout", "deadline"] = "timeout",
) -> list[MemberOutcome]:
    """Run ``members`` until all end, ``should_stop`` says the result is settled, or ``timeout_s`` passes.

    Args:
        members: Who to ask, in order (``sequential``: the order of escalation).
        call: Makes one member's call and records it.
        timeout_s: The one deadline for the whole run.
        should_stop: Checked after each member ends; True cancels the members still running.
        gate: Checked before each member starts; a reason skips that member.
        on_finish: Awaited as each member ends, including skipped ones.
        sequential: Start the next member only after the previous one ended (``cheapest``).
        deadline_reason: What a member cut by ``timeout_s`` is recorded as: ``timeout`` (the members' own deadline:
            the model was too slow) or ``deadline`` (the client's tool timeout decided it: not the model's failure).

    Returns:
        One outcome per member: the call's, or ``cancelled`` (stopped because the result was settled),
        ``timeout`` / ``deadline`` (the deadline passed first) or ``skipped`` (never started).
    """
    run = _Run(members, call, should_stop, gate or (lambda _index: None), on_finish, anyio.current_time() + timeout_s)
    run.outcomes = [None] * len(members)
    async with anyio.create_task_group() as group:

        async def watch_deadline() -> None:
            await anyio.sleep(timeout_s)
            run.stop.reason = deadline_reason
            group.cancel_scope.cancel()

        async def settle_check() -> None:
            if run.should_stop(run.outcomes):
                run.stop.reason = "cancelled"
                group.cancel_scope.cancel()

        async def one(index: int) -> None:
            await run.start(index)
            await settle_check()

        async def in_order() -> None:
            for index in range(len(members)):
                await run.start(index)
                await settle_check()
                if run.stop.reason is not None:
                    return

        group.start_soon(watch_deadline)
        if sequential:
            await in_order()
        else:
            async with anyio.create_task_group() as members_group:
                for index in range(len(members)):
                    members_group.start_soon(one, index)
        group.cancel_scope.cancel()
    return [_unfinished(outcome, index in run.started, run.stop) for index, outcome in enumerate(run.outcomes)]


def _unfinished(outcome: MemberOutcome | None, started: bool, stop: StopSignal) -> MemberOutcome:
    if outcome is not None:
        return outcome
    if stop.reason == "timeout":
        return MemberOutcome(status="timeout", error="the consensus deadline passed before it answered")
    if stop.reason == "deadline":
        return MemberOutcome(status="deadline", error="the client's tool timeout came before it answered")
    if started:
        return MemberOutcome(status="cancelled", error="stopped: the result was settled without it")
    return MemberOutcome(status="skipped", error="the result was settled before it started")
