"""What the model reads back from ``delegate`` (``consensus`` and ``solve`` build theirs from these helpers): the
answer and one line, details aside.

The text content is the answer followed by one provenance line (model, tokens, cost, latency, any fallback);
structuredContent holds the details without nulls or defaults, numbers rounded. Before this a 23-character
answer reached the model as ~900 characters of pretty-printed JSON, and again as structuredContent.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

from server.engine.results import DelegateResult

__all__ = [
    "delegate_line",
    "delegate_result",
    "details",
    "money",
    "tool_description",
]


def tool_description(fn: Callable[..., Any]) -> str:
    """``fn``'s docstring as a tool description: paragraphs kept, each on one line, no source indentation.

    The SDK sends a docstring as written, its indentation and line breaks included: characters every
    tools/list carries into the model's context for nothing.
    """
    paragraphs = inspect.cleandoc(fn.__doc__ or "").split("\n\n")
    return "\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


def delegate_result(result: DelegateResult) -> CallToolResult:
    """The client's result for a delegate call: the answer and its provenance line, details structured."""
    return CallToolResult(
        content=[TextContent(type="text", text=f"{result.answer}\n\n[{delegate_line(result)}]")],
        structured_content=details(result),
    )


def delegate_line(result: DelegateResult) -> str:
    """``acme:model-a · 11 in / 7 out tokens · $0.000025 · 812 ms · fell back from acme:x: server_error · id 1a2b3c4d``.

    The id is what ``feedback`` takes: the first 8 characters of ``request_id``, as the page shows them.
    """
    parts = [
        result.model,
        f"{result.input_tokens} in / {result.output_tokens} out tokens",
        money(result.cost_usd),
        f"{result.latency_ms:.0f} ms" + (" (cached)" if result.cache_hit else ""),
    ]
    failed = [a for a in result.decision.attempts if a.status != "ok"]
    if failed:
        parts.append("fell back from " + ", ".join(f"{a.model}: {a.status}" for a in failed))
    parts.append(f"id {result.request_id[:8]}")
    return " · ".join(parts)


def money(cost: float | None, unpriced: int = 0) -> str:
    """A cost as the model should read it: unknown is said, never shown as $0."""
    if cost is None:
        return "cost unknown (unpriced)" if not unpriced else f"cost unknown ({unpriced} unpriced)"
    if 0 < cost < 0.000001:
        return "under $0.000001"
    return "$" + (f"{cost:.6f}".rstrip("0").rstrip(".") if cost < 0.01 else f"{cost:.4f}")


def details(model: BaseModel) -> dict[str, Any]:
    """``model`` as JSON without nulls, empty lists or false flags, floats rounded to what a reader uses."""
    return _rounded(model.model_dump(mode="json", exclude_none=True, exclude_defaults=True))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        # Three significant figures: enough for a cost ($0.0000251) or a latency, and never rounds a tiny cost to 0.
        return float(f"{value:.3g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_rounded(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value
