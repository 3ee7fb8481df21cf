"""A solve run's nodes as they are kept, written down (``solve_run``, ``solve_node``) and returned to the client.

The best answer is the best-scored node's (ties: the earlier); its full text is already stored (every node's
answer is, as the tree's output reference), so the copy returned is cut to the output limit and names it for
``get_output``. Cost follows the store's rule: unknown is never 0, so a total with an unknown part is None, and
the known part and the count of unknown calls are given beside it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.engine.output import cut_to_limit
from server.engine.runs.ledger import sum_costs
from server.engine.solve.models import NodeResult, PathStep, SolveResult, StopReason
from server.store.models import Delegation, SolveNode, SolveRun

if TYPE_CHECKING:
    from server.engine.solve.run import SolveSpec

__all__ = ["NodeRecord", "assemble", "node_rows", "run_row"]


@dataclass
class NodeRecord:
    """One node while the run goes on."""

    node_id: str
    seq: int
    model: str
    parent: NodeRecord | None
    started: float
    status: str = "running"
    score: float | None = None
    answer: str | None = None
    feedback: str | None = None
    error: str | None = None
    output_id: str | None = None
    cost_usd: float | None = 0.0
    latency_ms: float | None = None

    @property
    def action(self) -> str:
        return "wider" if self.parent is None else "deeper"

    @property
    def depth(self) -> int:
        return 1 if self.parent is None else self.parent.depth + 1

    def add_cost(self, cost_usd: float | None, priced: bool) -> None:
        """Add a call's cost; an unpriced call makes the node's cost unknown (None), never 0."""
        if not priced or cost_usd is None or self.cost_usd is None:
            self.cost_usd = None
        else:
            self.cost_usd += cost_usd

    def finish(
        self, *, status: str, error: str | None = None, score: float | None = None, feedback: str | None = None
    ) -> None:
        self.status, self.error, self.score = status, error, score
        self.feedback = feedback if feedback is not None else error
        self.latency_ms = (time.perf_counter() - self.started) * 1000


def _best(nodes: Sequence[NodeRecord]) -> NodeRecord | None:
    """The best-scored node with an answer; with none scored, the first answer (unscored: the notes say why)."""
    scored = [node for node in nodes if node.score is not None and node.answer]
    best = max(scored, key=lambda node: (node.score or 0.0, -node.seq), default=None)
    return best or next((node for node in nodes if node.answer), None)


def _path(best: NodeRecord | None) -> list[PathStep]:
    steps: list[PathStep] = []
    node = best
    while node is not None:
        action = "wider" if node.parent is None else "deeper"
        steps.append(PathStep(seq=node.seq, model=node.model, action=action, score=node.score))
        node = node.parent
    return steps[::-1]


def _node_result(node: NodeRecord) -> NodeResult:
    return NodeResult(
        seq=node.seq,
        parent=None if node.parent is None else node.parent.seq,
        model=node.model,
        action="wider" if node.parent is None else "deeper",
        score=node.score,
        status=node.status,
        error=node.error,
    )


def _costs(calls: Iterable[Delegation]) -> tuple[int, float | None, float, int]:
    """How many calls; their total (None when any one's cost is unknown: unpriced, or cut off mid-answer) and
    known part, as every run counts them (:func:`~server.engine.runs.ledger.sum_costs`); how many unknown."""
    costs = [row.cost_usd for row in calls]
    total, known = sum_costs(costs)
    return len(costs), total, known, sum(1 for cost in costs if cost is None)


def assemble(
    run_id: str,
    nodes: Sequence[NodeRecord],
    *,
    stop_reason: str,
    target_score: float,
    calls: Iterable[Delegation],
    max_output_tokens: int,
    latency_ms: float,
    search_ms: float,
    notes: list[str],
    scored_by: str = "",
) -> SolveResult:
    """The client's result for the run's ``nodes``."""
    best = _best(nodes)
    answer, truncated = None, False
    if best is not None and best.answer is not None and best.output_id is not None:
        # Sent twice: as the text and inside structuredContent (see server.engine.compact).
        answer, truncated = cut_to_limit(best.answer, max_output_tokens // 2, best.output_id, copies=2)
    count, total, known, unpriced = _costs(calls)
    by_model: dict[str, int] = {}
    for node in nodes:
        if node.status != "skipped":
            by_model[node.model] = by_model.get(node.model, 0) + 1
    reason: StopReason = stop_reason  # type: ignore[assignment]  # the search names only these
    return SolveResult(
        run_id=run_id,
        status="ok" if best is not None else "failed",
        stop_reason=reason,
        best_answer=answer,
        answer_truncated=truncated,
        output_id=best.output_id if best is not None else None,
        best_score=best.score if best is not None else None,
        target_score=target_score,
        path=_path(best),
        calls=count,
        calls_by_model=by_model,
        total_cost_usd=total,
        cost_known_usd=known,
        unpriced_calls=unpriced,
        latency_ms=latency_ms,
        search_overhead_ms=search_ms,
        nodes=[_node_result(node) for node in nodes],
        notes=notes,
        scored_by=scored_by,
    )


def node_rows(run_id: str, session_id: str | None, nodes: Sequence[NodeRecord]) -> list[SolveNode]:
    return [
        SolveNode(
            id=node.node_id,
            run_id=run_id,
            session_id=session_id,
            parent_id=None if node.parent is None else node.parent.node_id,
            seq=node.seq,
            model=node.model,
            action=node.action,
            depth=node.depth,
            score=node.score,
            status=node.status,
            feedback=node.feedback,
            cost_usd=node.cost_usd,
            latency_ms=node.latency_ms,
            output_id=node.output_id,
        )
        for node in nodes
    ]


def run_row(
    run_id: str,
    session_id: str | None,
    spec: SolveSpec,
    result: SolveResult | None,
    ended: str,
    latency_ms: float,
    nodes: Sequence[NodeRecord],
    calls: Iterable[Delegation],
) -> SolveRun:
    """The ``solve_run`` row; a run that ended without a result has status ``cancelled`` or ``error``."""
    best = _best(nodes)
    count, total, known, unpriced = _costs(calls)
    return SolveRun(
        id=run_id,
        session_id=session_id,
        task=spec.task,
        models=",".join(info.id for info in spec.models),
        check_name=spec.check_name,
        judge_model=spec.judge.id if spec.judge is not None else None,
        status=result.status if result is not None else ended,
        stop_reason=result.stop_reason if result is not None else None,
        target_score=spec.target_score,
        best_score=best.score if best is not None else None,
        best_node_id=best.node_id if best is not None else None,
        calls=count,
        total_cost_usd=total,
        cost_known_usd=known,
        unpriced_calls=unpriced,
        latency_ms=latency_ms,
    )
