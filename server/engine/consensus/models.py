"""The structured output of the ``consensus`` tool (pydantic models the MCP client receives as JSON)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from server.engine.consensus.prompts import Stance

__all__ = ["ConsensusResult", "MemberResult", "MemberStatus", "Strategy"]

Strategy = str
"""A registered strategy's name (:data:`server.engine.consensus.registry.STRATEGIES`): fastest, vote, judge,
cheapest, or one added since (the tool checks it against the registry)."""

MemberStatus = str
"""``ok``; ``cancelled`` (stopped once the result was settled); ``skipped`` (never started: the result was
settled, or the cost cap or deadline left no room); or the delegate error class (``timeout``,
``rate_limited``, ``server_error``, ``rejected`` for an answer that failed the check, ...)."""


class MemberResult(BaseModel):
    """One member's part in the run."""

    model: str = Field(description="provider:model")
    stance: Stance | None = None
    status: MemberStatus
    answer: str | None = Field(default=None, description="The answer, cut to fit the output limit.")
    answer_truncated: bool = False
    output_id: str | None = Field(default=None, description="Stored full answer when it was cut.")
    latency_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = Field(default=None, description="None when unpriced or not run.")
    error: str | None = None
    group: int | None = Field(default=None, description="vote: the answer group, 0 is the majority.")
    score: float | None = Field(default=None, description="judge: mean rubric score 0-10.")


class ConsensusResult(BaseModel):
    """What ``consensus`` returns: the final answer, how far the members agreed, and each member's part."""

    run_id: str
    strategy: Strategy
    status: Literal["ok", "failed"]
    final_answer: str | None = Field(default=None, description="Cut to fit the output limit when long.")
    final_truncated: bool = False
    final_output_id: str | None = Field(default=None, description="Stored full final answer when it was cut.")
    chosen: str | None = Field(default=None, description="The member whose answer won, or 'judge' for a synthesis.")
    agreement: float | None = Field(default=None, description="Share of answers in the majority group (0-1).")
    dissent: str = Field(default="", description="Who disagreed with the final answer, and how.")
    members: list[MemberResult]
    judge: MemberResult | None = None
    total_cost_usd: float | None = Field(default=None, description="None when some call's cost is unknown.")
    cost_known_usd: float = Field(default=0.0, description="The cost of the calls whose cost is known.")
    unpriced_models: list[str] = Field(default_factory=list)
    latency_ms: float
    notes: list[str] = Field(default_factory=list, description="Fallbacks and stops, e.g. 'judge failed: ...'.")
