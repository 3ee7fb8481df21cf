"""Scoring one ``solve`` answer: the configured check gates, the judge model ranks.

With a check only, the node's score is the check's. With a judge only, the judge's. With both, the judge is
asked only when the check scored above 0, and the node's score is the product: an answer that fails the check
scores 0 whatever the judge would say, and among answers that pass, the judge orders them. A judge that fails
(an error, no JSON) leaves the node unscored (None) with the reason: that says nothing of the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from server.engine.runs.outcome import StopSignal
from server.engine.runs.replies import JudgeError
from server.engine.solve.calls import SolveCalls
from server.engine.solve.check import run_check
from server.engine.solve.prompts import JUDGE_SYSTEM, judge_prompt, parse_judge_score
from server.providers.registry import ModelInfo

__all__ = ["Scored", "Scorer"]


@dataclass
class Scored:
    """A node's score and what its scorer said; ``status`` is ``ok`` or why the scoring failed."""

    score: float | None
    """None: unscored (the judge failed), never a 0 the answer did not earn."""
    feedback: str
    status: str = "ok"
    cost_usd: float | None = 0.0
    priced: bool = True


@dataclass
class Scorer:
    """The run's scorers: a check command (from the config) and/or a judge model."""

    calls: SolveCalls
    check_command: str | None
    judge: ModelInfo | None
    task: str
    cwd: Path
    check_timeout_s: float
    environ: dict[str, str]
    stop: StopSignal
    scrub: Callable[[str], str] | None = None
    """Takes the session's keys out of a check's output (the registry's scrubber) before any prompt or row sees it."""

    @property
    def calls_per_node(self) -> int:
        return 1 + (1 if self.judge is not None else 0)

    async def score(self, node_id: str, answer: str) -> Scored:
        gate = None
        if self.check_command is not None:
            result = await run_check(
                self.check_command, answer, cwd=self.cwd, timeout_s=self.check_timeout_s, environ=self.environ
            )
            status = "check_timeout" if result.exit_code is None else "check_failed"
            status = "ok" if result.exit_code == 0 else status
            feedback = self.scrub(result.feedback) if self.scrub is not None else result.feedback
            gate = Scored(result.score, feedback, status)
            if self.judge is None or (result.score or 0.0) <= 0:
                return gate
        assert self.judge is not None, "a run has a check or a judge"
        judged = await self._judge(node_id, answer, self.judge)
        if gate is None:
            return judged
        feedback = f"check: {gate.feedback}\njudge: {judged.feedback}".strip()
        score = None if gate.score is None or judged.score is None else gate.score * judged.score
        return Scored(score, feedback, judged.status, judged.cost_usd, judged.priced)

    async def _judge(self, node_id: str, answer: str, judge: ModelInfo) -> Scored:
        request = self.calls.request(JUDGE_SYSTEM, judge_prompt(self.task, answer))
        slot = self.calls.slot(node_id, "solve_judge")
        refused = self.calls.refusal(slot, judge, request)
        if refused is not None:
            raise refused
        outcome = await self.calls.call(slot, judge, request, self.stop)
        if not outcome.answered or outcome.text is None:
            why = f"judge {judge.id} failed ({outcome.status}: {outcome.error})"
            return Scored(None, why, "judge_failed", outcome.cost_usd, outcome.priced)
        try:
            verdict = parse_judge_score(outcome.text)
        except JudgeError as exc:
            return Scored(None, f"judge {judge.id}: {exc}", "judge_failed", outcome.cost_usd, outcome.priced)
        return Scored(verdict.score, verdict.critique, "ok", outcome.cost_usd, outcome.priced)
