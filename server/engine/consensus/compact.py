"""What the model reads back from ``consensus``: the final answer and one line on agreement and members.

Built like ``delegate``'s (:mod:`server.engine.compact`): the text is the answer and a provenance line;
structuredContent holds the details without nulls.
"""

from __future__ import annotations

from mcp_types import CallToolResult, TextContent

from server.engine.compact import details, money
from server.engine.consensus.models import ConsensusResult

__all__ = ["consensus_line", "consensus_result"]


def consensus_result(result: ConsensusResult) -> CallToolResult:
    """The client's result for a consensus run: the final answer and a line on agreement and members."""
    answer = result.final_answer if result.final_answer is not None else "(no final answer)"
    lines = [answer, "", f"[{consensus_line(result)}]"]
    if result.dissent:
        lines.append(f"[dissent: {result.dissent}]")
    lines += [f"[note: {note}]" for note in result.notes]
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(lines))],
        structured_content=details(result),
    )


def consensus_line(result: ConsensusResult) -> str:
    """``judge · agreement 0.67 · 2 of 3 members answered (pa:a1, pb:b1; pc:c1 timeout) · chosen pa:a1 · $0.0012``."""
    answered = [m for m in result.members if m.status == "ok"]
    others = [f"{m.model} {m.status}" for m in result.members if m.status != "ok"]
    members = f"{len(answered)} of {len(result.members)} members answered"
    names = ", ".join(m.model for m in answered) + ("; " + ", ".join(others) if others else "")
    parts = [result.strategy]
    if result.agreement is not None:
        parts.append(f"agreement {result.agreement:.2f}")
    parts.append(f"{members} ({names})" if names else members)
    if result.chosen:
        parts.append(f"chosen {result.chosen}")
    parts.append(money(result.total_cost_usd, len(result.unpriced_models)))
    return " · ".join(parts)
