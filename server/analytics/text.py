"""Text building blocks: money, ratios and durations formatted for people, aligned tables, a session's tree.

Unpriced figures read ``unpriced`` and unknown session costs ``unknown``: never ``$0``.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.analytics.session_detail import SessionDetail, TimelineNode

__all__ = ["at_least", "fmt_ms", "fmt_pct", "fmt_usd", "render_timeline", "table"]


def fmt_usd(value: float | None, missing: str = "unpriced") -> str:
    """Dollars, with enough decimals for small sums; ``missing`` when None."""
    if value is None:
        return missing
    sign, size = ("-" if value < 0 else ""), abs(value)
    return f"{sign}${size:,.2f}" if size >= 1 else f"{sign}${size:.4f}"


def at_least(known_usd: float | None, unpriced: int) -> str:
    """A total that leaves out unpriced usage says so: ``$X`` when all is priced, else ``at least $X, n unpriced``."""
    if not unpriced:
        return fmt_usd(known_usd)
    return f"at least {fmt_usd(known_usd or 0.0)}, {unpriced} unpriced"


def fmt_pct(value: float | None) -> str:
    """A ratio as a percentage; ``-`` when None."""
    return "-" if value is None else f"{value:.0%}"


def fmt_ms(value: float | None) -> str:
    """Milliseconds, or seconds past 10 s; ``-`` when None."""
    if value is None:
        return "-"
    return f"{value / 1000:.1f}s" if value >= 10_000 else f"{value:.0f}ms"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], limit: int | None = None) -> list[str]:
    """Aligned columns, numbers right-aligned; at most ``limit`` rows and a line saying how many were left out.

    No rows, no lines (not even the header).
    """
    if not rows:
        return []
    shown = list(rows if limit is None else rows[:limit])
    cells = [[str(c) for c in r] for r in shown]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [all(isinstance(r[i], int | float) for r in shown) and bool(shown) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(headers), *(line(r) for r in cells)]
    if len(rows) > len(shown):
        out.append(f"... {len(rows) - len(shown)} more")
    return out


def render_timeline(detail: SessionDetail, label_chars: int = 60) -> str:
    """The session's tree, one node a line, indented by depth, with status, duration and cost."""
    session = detail.session
    lines = [f"Timeline of {session.session_id} (cost of record {fmt_usd(session.cost_usd, 'unknown')}):"]

    def walk(node: TimelineNode, depth: int) -> None:
        cost = fmt_usd(node.cost_usd, "unpriced" if node.unpriced else "-")
        status = f" [{node.status}]" if node.status else ""
        label = node.label.replace("\n", " ")[:label_chars]
        lines.append(f"{'  ' * depth}- {node.kind} {label}{status} {fmt_ms(node.duration_ms)} {cost}")
        for child in node.children:
            walk(child, depth + 1)

    for node in detail.timeline:
        walk(node, 1)
    return "\n".join(lines)
