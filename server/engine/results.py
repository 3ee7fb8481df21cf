"""What the MCP tools return: pydantic models, so clients get structured output with a schema."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = [
    "AttemptSummary",
    "DelegateResult",
    "ModelListing",
    "ProviderListing",
    "RouteListing",
    "RoutingDecision",
    "SkippedModel",
]


class SkippedModel(BaseModel):
    model: str
    reason: str


class AttemptSummary(BaseModel):
    model: str
    status: str = Field(description="ok, or an error class: timeout, server_error, rate_limited, connection, ...")
    error: str | None = None
    latency_ms: float | None = None
    cache_hit: bool = False


class RoutingDecision(BaseModel):
    """How the model was chosen."""

    task_type: str
    task_type_source: str = Field(description="'given', or 'classified' from the task text.")
    candidates: list[str] = Field(description="Models in the order they were (or would have been) tried.")
    chosen: str | None
    learning: str | None = Field(
        default=None, description="What learned routing did to the configured order, with the numbers behind it."
    )
    skipped: list[SkippedModel] = Field(default_factory=list[SkippedModel])
    attempts: list[AttemptSummary] = Field(default_factory=list[AttemptSummary])
    budget: str | None = Field(default=None, description="What the budgets decided, when a cap is set.")


class DelegateResult(BaseModel):
    """A delegated task's answer, what it cost, and how it was routed."""

    answer: str
    model: str = Field(description="provider:model that answered.")
    thread_id: str = Field(description="Pass back as thread_id to continue this conversation (with any model).")
    request_id: str
    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    cost_usd: float | None = Field(default=None, description="None when the model has no known price.")
    latency_ms: float
    cache_hit: bool = False
    truncated: bool = False
    output_id: str | None = Field(default=None, description="When truncated: get_output(output_id) returns all.")
    decision: RoutingDecision


class RouteListing(BaseModel):
    """A task type's route as delegate would try it now."""

    models: list[str] = Field(description="The order delegate will try next, learning's reorder included.")
    why: str
    written: list[str] | None = Field(default=None, description="The order before learning, when learning changed it.")
    skipped: list[SkippedModel] = Field(default_factory=list[SkippedModel])


class ModelListing(BaseModel):
    id: str
    input_per_mtok: float | None = None
    output_per_mtok: float | None = None
    price_source: str = Field(description="'config', 'genai-prices' or 'unpriced'.")
    context_window: int | None = None
    recent_latency_ms: float | None = None


class ProviderListing(BaseModel):
    name: str
    kind: str
    base_url: str | None
    key: str = Field(description="Which variable holds the key, and whether it is set (never the key itself).")
    breaker: str
    consecutive_failures: int
    models: list[ModelListing]
