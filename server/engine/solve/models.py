"""The structured output of the ``solve`` tool (pydantic models the MCP client receives as JSON)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["NodeResult", "PathStep", "SolveResult", "StopReason"]

StopReason = Literal["target", "max_calls", "too_few_calls_left", "cost_cap", "budget", "deadline", "exhausted"]
"""``max_calls``: every allowed call was made; ``too_few_calls_left``: some are left, fewer than a node takes."""


class PathStep(BaseModel):
    """One step of the path to the best answer, from its fresh start to the best node."""

    seq: int = Field(description="The node's order of expansion in the run.")
    model: str
    action: Literal["wider", "deeper"] = Field(description="wider: a fresh answer; deeper: a refinement.")
    score: float | None = None


class NodeResult(BaseModel):
    """One node of the tree, compactly (the answers are in the store: see the dashboard's run page)."""

    seq: int
    parent: int | None = Field(default=None, description="The parent's seq; None for a fresh answer.")
    model: str
    action: Literal["wider", "deeper"]
    score: float | None = None
    status: str = Field(description="ok, or why the node failed (timeout, check_failed, judge_failed, ...).")
    error: str | None = None


class SolveResult(BaseModel):
    """What ``solve`` returns: the best answer found, its score and path, and what the search cost."""

    run_id: str
    status: Literal["ok", "failed"] = Field(description="failed: no node produced an answer.")
    stop_reason: StopReason
    best_answer: str | None = Field(default=None, description="Cut to fit the output limit when long.")
    answer_truncated: bool = False
    output_id: str | None = Field(default=None, description="Stored full answer; read the rest with get_output.")
    best_score: float | None = Field(default=None, description="None: no answer was scored (see notes for why).")
    target_score: float
    scored_by: str = Field(default="", description="The check and/or judge that scored the answers, and why that one.")
    path: list[PathStep] = Field(default_factory=list[PathStep])
    calls: int = Field(description="Model calls made: answers and judge verdicts.")
    calls_by_model: dict[str, int] = Field(default_factory=dict[str, int], description="Answer calls per model.")
    total_cost_usd: float | None = Field(default=None, description="None when some call's cost is unknown.")
    cost_known_usd: float = Field(default=0.0, description="The cost of the calls whose cost is known.")
    unpriced_calls: int = Field(default=0, description="Calls whose cost is unknown (cost_known_usd leaves them out).")
    latency_ms: float
    search_overhead_ms: float = Field(description="Time in the tree search itself, beyond calls and checks.")
    nodes: list[NodeResult] = Field(default_factory=list[NodeResult])
    notes: list[str] = Field(default_factory=list[str])
