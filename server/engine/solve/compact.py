"""What the model reads back from ``solve``: the best answer, then one line on how the search went.

Like ``delegate`` and ``consensus`` (:mod:`server.engine.compact`): the text is the answer and a provenance
line; structuredContent holds the details (path, nodes) without nulls or defaults.
"""

from __future__ import annotations

from mcp_types import CallToolResult, TextContent

from server.engine.compact import details, money
from server.engine.solve.models import SolveResult

__all__ = ["solve_line", "solve_result"]


def solve_result(result: SolveResult) -> CallToolResult:
    """The client's result for a solve run."""
    answer = result.best_answer if result.best_answer is not None else "(no answer scored)"
    lines = [answer, "", f"[{solve_line(result)}]", *(f"[note: {note}]" for note in result.notes)]
    return CallToolResult(content=[TextContent(type="text", text="\n".join(lines))], structured_content=details(result))


def solve_line(result: SolveResult) -> str:
    """``solve · score 1.00 (target 1.00, stopped: target) · 9 calls (pf:good 7, pf:weak 2) · path pf:good new →
    pf:good refine → pf:good refine · scored by check tests alone · $0.0012 · 5.3 s``."""
    score = "no score" if result.best_score is None else f"score {result.best_score:.2f}"
    by_model = ", ".join(f"{model} {count}" for model, count in result.calls_by_model.items())
    steps = " → ".join(f"{step.model} {'new' if step.action == 'wider' else 'refine'}" for step in result.path)
    parts = [
        f"solve · {score} (target {result.target_score:.2f}, stopped: {result.stop_reason})",
        f"{result.calls} calls" + (f" ({by_model})" if by_model else ""),
    ]
    if steps:
        parts.append(f"path {steps}")
    if result.scored_by:
        parts.append(result.scored_by)
    if result.total_cost_usd is None and result.unpriced_calls:
        cost = f"at least {money(result.cost_known_usd)}, {result.unpriced_calls} unpriced"
    else:
        cost = money(result.total_cost_usd)
    parts += [cost, f"{result.latency_ms / 1000:.1f} s"]
    return " · ".join(parts)
