"""The ``solve`` engine: an AB-MCTS search over several models, each node one answer, scored by a check or judge.

This module runs one search: it writes and scores nodes for :func:`server.engine.solve.search.search` (which
asks TreeQuest where to go next), keeps every node, reports progress as nodes finish, and writes the run down.
Calls, the cost cap and budgets come from the shared :class:`~server.engine.runs.calls.RunCalls` (through
:class:`~server.engine.solve.calls.SolveCalls`); stored answers from its ledger; the rows are written by
:func:`~server.engine.runs.record.run_recorded`, even when the client cancels.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import anyio
from sqlmodel import SQLModel

from server.engine.progress import Progress
from server.engine.runs.ledger import RunLedger
from server.engine.runs.outcome import StopSignal
from server.engine.runs.record import Ended, run_recorded
from server.engine.runtime import Runtime
from server.engine.solve.calls import SolveCalls
from server.engine.solve.models import SolveResult
from server.engine.solve.prompts import ANSWER_SYSTEM, deeper_prompt, wider_prompt
from server.engine.solve.record import NodeRecord, assemble, node_rows, run_row
from server.engine.solve.score import Scored, Scorer
from server.engine.solve.search import NodeState, Refused, load_treequest, search
from server.providers.registry import ModelInfo

__all__ = ["QUALITY_STATUSES", "Progress", "SolveSpec", "run_solve"]

QUALITY_STATUSES = ("ok", "check_failed")
"""Scores that say how good the model's answer was (a check that hung, or a judge that failed, say nothing of it)."""


@dataclass(frozen=True)
class SolveSpec:
    """One solve request, validated: known models, a configured check and/or a judge."""

    task: str
    models: tuple[ModelInfo, ...]
    check_name: str | None
    check_command: str | None
    judge: ModelInfo | None
    max_calls: int
    target_score: float = 1.0
    max_cost_usd: float | None = None
    timeout_s: float = 300.0
    parallel: int = 3
    check_timeout_s: float = 60.0
    environ: Mapping[str, str] = field(default_factory=dict[str, str])
    scored_by: str = ""
    """Who scores and why that one, for the result's line (e.g. ``judged by pj:x (not a candidate)``)."""


class _SolveRun:
    def __init__(self, runtime: Runtime, spec: SolveSpec, progress: Progress | None, deadline: float | None) -> None:
        self.runtime = runtime
        self.ends_at = anyio.current_time() + spec.timeout_s
        """When the run must be over: its own deadline, or the client's when that comes first."""
        self.by_client = deadline is not None and deadline < self.ends_at
        """Whether the client's tool timeout ends the run: a call cut then is recorded ``deadline`` (not the model's
        failure), one cut by the run's own ``timeout_s`` ``timeout``."""
        if deadline is not None:
            self.ends_at = min(self.ends_at, deadline)
        self.run_s = self.ends_at - anyio.current_time()
        self.spec = spec
        self.progress = progress
        self.run_id = uuid.uuid4().hex
        self.ledger = RunLedger(self.run_id, runtime.session_id, runtime.project_dir)
        self.calls = SolveCalls(runtime, self.ledger, spec.max_cost_usd)
        self.calls.deadline = deadline  # the client's: a call too close to it is refused, not started
        self.stop = StopSignal()
        self.scorer = Scorer(
            self.calls,
            spec.check_command,
            spec.judge,
            spec.task,
            runtime.roots[0],
            spec.check_timeout_s,
            dict(spec.environ),
            self.stop,
            scrub=runtime.registry.scrub,
        )
        self.by_id = {info.id: info for info in spec.models}
        self.nodes: list[NodeRecord] = []
        self.reserved = 0
        """Calls reserved by the nodes started so far (a node that needed fewer gives the rest back)."""
        self.started = time.perf_counter()

    def may_start(self) -> str | None:
        """Reserve a node's calls (answer, and judge if any) under ``max_calls``, or say the run is at its limit.

        Reserved here, when the search asks, not when the node's task runs: the search asks for the next node
        before the last one's task has started, so counting calls made would let it overshoot.
        """
        if self.reserved + self.scorer.calls_per_node > self.spec.max_calls:
            # Final only once no node is in flight (the search asks again as each ends): then reserved = made.
            return "max_calls" if self.reserved >= self.spec.max_calls else "too_few_calls_left"
        self.reserved += self.scorer.calls_per_node
        return None

    def reached(self, state: NodeState) -> bool:
        return state.score >= self.spec.target_score

    async def expand(self, model: str, parent: NodeState | None) -> NodeState:
        parent_node = None if parent is None else next(n for n in self.nodes if n.node_id == parent.node_id)
        node = NodeRecord(
            node_id=uuid.uuid4().hex,
            seq=len(self.nodes),
            model=model,
            parent=parent_node,
            started=time.perf_counter(),
        )
        self.nodes.append(node)
        try:
            return await self._expand(node, self.by_id[model], parent)
        finally:
            # A node that failed before its judge, or was refused, hands back the calls it did not make.
            self.reserved -= self.scorer.calls_per_node - self.calls.made_for(node.node_id)

    async def _expand(self, node: NodeRecord, info: ModelInfo, parent: NodeState | None) -> NodeState:
        model = info.id
        prompt = (
            wider_prompt(self.spec.task)
            if parent is None
            else deeper_prompt(self.spec.task, parent.answer, parent.score, parent.feedback)
        )
        request = self.calls.request(ANSWER_SYSTEM, prompt)
        slot = self.calls.slot(node.node_id, "solve")
        refused = self.calls.refusal(slot, info, request)
        if refused is not None:
            node.finish(status="skipped", error=refused.reason)
            raise refused
        outcome = await self.calls.call(slot, info, request, self.stop)
        node.add_cost(outcome.cost_usd, outcome.priced)
        if not outcome.answered or not outcome.text or not outcome.text.strip():
            # No answer is not a bad answer: the node stays unscored, with why.
            node.finish(
                status=outcome.status if outcome.status != "ok" else "empty", error=outcome.error or "empty answer"
            )
        else:
            node.answer = outcome.text
            node.output_id = self.ledger.store_full(slot, outcome.text, "solve_node")
            try:
                scored = await self.scorer.score(node.node_id, outcome.text)
            except Refused as refused:
                node.finish(status="unscored", error=refused.reason)
                raise
            self._scored(node, scored)
            if scored.status in QUALITY_STATUSES and scored.score is not None:
                self.ledger.delegations[slot].quality = scored.score  # the learning router's signal
        await self._tell_progress(node)
        # The search needs a number: an unscored node counts as 0 there only, never in what is recorded or learned.
        return NodeState(node.node_id, model, node.answer or "", node.score or 0.0, node.feedback or "")

    def _scored(self, node: NodeRecord, scored: Scored) -> None:
        node.add_cost(scored.cost_usd, scored.priced)
        error = None if scored.status == "ok" else scored.feedback
        node.finish(status=scored.status, error=error, score=scored.score, feedback=scored.feedback)

    async def _tell_progress(self, node: NodeRecord) -> None:
        if self.progress is None:
            return
        best = max((n.score for n in self.nodes if n.score is not None), default=0.0)
        score = "-" if node.score is None else f"{node.score:.2f}"
        message = f"node {node.seq} {node.model} {node.action}: {node.status}, score {score} (best {best:.2f})"
        with anyio.CancelScope(shield=True):  # a notice half-sent when the target cancels the others is lost
            await self.progress(self.calls.made, self.spec.max_calls, message)

    async def execute(self) -> SolveResult:
        stop_reason, search_ms = "deadline", 0.0
        async with anyio.create_task_group() as group:

            async def deadline() -> None:
                await anyio.sleep_until(self.ends_at)
                # read by the calls being cancelled, to record why
                self.stop.reason = "deadline" if self.by_client else "timeout"
                group.cancel_scope.cancel()

            group.start_soon(deadline)
            await load_treequest()
            await self.calls.load_spend(self._worst_usd())
            end = await search(
                [info.id for info in self.spec.models],
                self.expand,
                parallel=self.spec.parallel,
                may_start=self.may_start,
                reached=self.reached,
            )
            stop_reason, search_ms = end.stop_reason, end.search_ms
            group.cancel_scope.cancel()
        for node in self.nodes:
            if node.status != "running":
                continue
            if stop_reason == "deadline" and self.by_client:
                node.finish(status="deadline", error=f"the client's tool timeout ({self.run_s:.1f} s) came first")
            elif stop_reason == "deadline":
                node.finish(status="timeout", error=f"the run's {self.run_s:.1f} s deadline came first")
            else:
                node.finish(status="cancelled", error=f"stopped: the run ended ({stop_reason}) before it finished")
        notes = [*self._scoring_notes()]
        if self.calls.cap.unbounded:
            notes.append(f"cost cap does not bound unpriced models: {', '.join(self.calls.cap.unbounded)}")
        return assemble(
            self.run_id,
            self.nodes,
            stop_reason=stop_reason,
            target_score=self.spec.target_score,
            calls=self.ledger.delegations.values(),
            max_output_tokens=self.runtime.config.output.max_output_tokens,
            latency_ms=self.elapsed_ms(),
            search_ms=search_ms,
            notes=notes,
            scored_by=self.spec.scored_by,
        )

    def _scoring_notes(self) -> list[str]:
        """Why the best score is what it is, when the judge or the check failed on some answers."""
        answered = [node for node in self.nodes if node.answer is not None]
        notes: list[str] = []
        for status, who in (
            ("judge_failed", f"judge {self.spec.judge.id if self.spec.judge else ''}"),
            ("check_failed", f"check {self.spec.check_name}"),
            ("check_timeout", f"check {self.spec.check_name}"),
        ):
            failed = [node for node in answered if node.status == status]
            if not failed:
                continue
            verb = "timed out" if status == "check_timeout" else "failed"
            notes.append(f"{who} {verb} on {len(failed)} of {len(answered)} answers: {_why(failed[0].error, who)}")
        return notes

    def _worst_usd(self) -> float:
        """The run's worst case, reserved against the daily and session budgets: ``max_calls`` calls at the dearest
        priced model's worst case (the judge's included), at most the run's own cap. Refinement prompts carry a
        parent answer and run longer than this probe; each call is still checked against the budgets as it starts.
        """
        probe = self.calls.request(ANSWER_SYSTEM, self.spec.task)
        infos = [*self.spec.models, *([self.spec.judge] if self.spec.judge is not None else [])]
        known = [cost for cost in (self.calls.worst_case(info, probe) for info in infos) if cost is not None]
        worst = max(known, default=0.0) * self.spec.max_calls
        return worst if self.spec.max_cost_usd is None else min(worst, self.spec.max_cost_usd)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


def _why(error: str | None, who: str) -> str:
    """The last line of a node's error, without the scorer's name it repeats."""
    lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    last = lines[-1] if lines else "no reason given"
    return last.removeprefix(f"{who}: ").removeprefix(f"{who} ")


async def run_solve(
    runtime: Runtime, spec: SolveSpec, *, progress: Progress | None = None, deadline: float | None = None
) -> SolveResult:
    """Search for the best answer to ``spec.task``, record the run and its tree, and return the best so far.

    ``deadline`` is :meth:`Runtime.call_deadline` taken when the tool call arrived: the run ends by then, or after
    ``spec.timeout_s``, whichever comes first. Node failures (a model error, a failing or hanging check, a judge's
    garbage) are recorded and never fatal; a node with no answer or whose judge failed stays unscored (never 0).
    The run ends at the target score, ``max_calls``, the cost cap or the deadline.
    """
    run = _SolveRun(runtime, spec, progress, deadline)

    def cancelled() -> None:
        for node in run.nodes:
            if node.status == "running":
                node.finish(status="cancelled", error="the client cancelled the run")

    def rows(result: SolveResult | None, ended: Ended) -> list[SQLModel]:
        calls = run.ledger.delegations.values()
        row = run_row(run.run_id, runtime.session_id, spec, result, ended, run.elapsed_ms(), run.nodes, calls)
        return [row, *node_rows(run.run_id, runtime.session_id, run.nodes), *calls, *run.ledger.rows]

    return await run_recorded(run.calls, run.execute, rows, on_cancel=cancelled)
