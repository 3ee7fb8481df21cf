"""Plain-text tables of a :class:`StatsReport`, for ``switchboard stats`` and the ``stats`` MCP tool.

Unpriced figures read ``unpriced`` and unknown session costs ``unknown``: never ``$0``.
"""

from __future__ import annotations

from collections.abc import Callable

from server.analytics.report import StatsReport
from server.analytics.text import at_least, fmt_ms, fmt_pct, fmt_usd, table

__all__ = ["BRIEF_ROWS", "fmt_ms", "fmt_pct", "fmt_usd", "render_report", "table"]

BRIEF_ROWS = 3  # at this many rows per table or fewer (an overview), long explanations are shortened


def _sources(reported: int, estimated: int) -> str:
    """Which costs of record Claude Code reported and which are estimated from usage at list prices."""
    if not reported and not estimated:
        return ""
    return f" ({reported} reported by Claude Code, {estimated} estimated at list prices)"


def _sessions(r: StatsReport, limit: int) -> list[str]:
    s = r.sessions
    if s is None:
        return []
    hours = s.duration_s_total / 3600
    cost = fmt_usd(s.cost_usd)
    unpriced = sum(m.unpriced_responses for m in s.by_model)
    lines = [
        f"Sessions: {s.sessions} ({s.ended} ended), {hours:.1f} h, cost of record {cost}"
        + (f" + {s.sessions_without_cost} with no cost recorded" if s.sessions_without_cost else "")
        + _sources(s.sessions_reported, s.sessions_estimated)
        + (f"; {unpriced} usage lines unpriced (unknown model, not $0)" if unpriced else "")
    ]
    if len(s.by_agent) > 1 or any(a.agent != "claude-code" for a in s.by_agent):
        lines += table(
            ["agent", "sessions", "cost", "models"],
            [
                [
                    a.agent,
                    a.sessions,
                    fmt_usd(a.cost_usd) + (f" + {a.sessions_without_cost} unknown" if a.sessions_without_cost else ""),
                    ", ".join(a.models[:4]) or "-",
                ]
                for a in s.by_agent
            ],
            limit,
        )
    lines += table(
        ["model", "responses", "input", "output", "cache read", "cache write", "cost"],
        [
            [
                m.model,
                m.responses,
                m.input_tokens,
                m.output_tokens,
                m.cache_read_tokens,
                m.cache_creation_tokens,
                at_least(m.cost_usd, m.unpriced_responses),
            ]
            for m in s.by_model
        ],
        limit,
    )
    if r.recent_sessions:
        lines.append("Recent sessions:")
        lines += table(
            ["session_id", "agent", "project", "started", "min", "cost_usd", "prompts", "tools", "delegations"],
            [
                [
                    x.session_id,
                    x.agent,
                    x.project or "-",
                    x.started_at.strftime("%m-%d %H:%M") if x.started_at else "-",
                    round((x.duration_s or 0) / 60, 1),
                    fmt_usd(x.cost_usd, "unknown"),
                    x.prompts,
                    x.tool_calls,
                    x.delegations,
                ]
                for x in r.recent_sessions[:limit]
            ],
        )
        hidden = s.sessions - min(len(r.recent_sessions), limit)
        if hidden > 0:
            lines.append(f"... {hidden} more (switchboard stats --json lists every session)")
    return lines


def _tools(r: StatsReport, limit: int) -> list[str]:
    t = r.tools
    if t is None:
        return []
    head = f"Tools: {t.calls} calls, {fmt_pct(t.failure_rate)} failed"
    rows = [[x.tool_name, x.calls, fmt_pct(x.failure_rate), fmt_ms(x.p50_ms), fmt_ms(x.p95_ms)] for x in t.tools]
    return [head, *table(["tool", "calls", "failed", "p50", "p95"], rows, limit)]


def _subagents(r: StatsReport, limit: int) -> list[str]:
    s = r.subagents
    if s is None:
        return []
    head = f"Subagents: {s.runs} runs, cost {at_least(s.cost_usd, s.unpriced_runs)}, max nesting {s.max_depth}"
    rows = [
        [
            x.agent_type,
            x.runs,
            x.nested_runs,
            x.input_tokens + x.cache_read_tokens + x.cache_creation_tokens,
            x.output_tokens,
            fmt_usd(x.cost_usd),
            fmt_ms(x.p50_ms),
            fmt_ms(x.p95_ms),
        ]
        for x in s.by_type
    ]
    return [head, *table(["type", "runs", "nested", "in tokens", "out tokens", "cost", "p50", "p95"], rows, limit)]


def _delegations(r: StatsReport, limit: int) -> list[str]:
    d = r.delegations
    if d is None:
        return []
    lines = [
        # The JSON's words: "requests" are delegate calls, "calls" every attempt (fallbacks, consensus members).
        f"Delegations: {d.requests} requests, {d.calls} calls, {fmt_pct(d.success_rate)} ok, {d.fallbacks} fallbacks, "
        f"{d.cache_hits} cache hits, cost {at_least(d.cost_usd, d.unpriced_calls)}"
    ]
    if d.errors:
        lines.append("Errors: " + ", ".join(f"{k} {v}" for k, v in sorted(d.errors.items(), key=lambda kv: -kv[1])))
    if d.refusals:
        refused = ", ".join(f"{k} {v}" for k, v in sorted(d.refusals.items(), key=lambda kv: -kv[1]))
        lines.append(f"Refused, not the model's failure (not in the % ok): {refused}")
    rows = [
        [
            x.route,
            x.task_type,
            x.calls,
            fmt_pct(x.success_rate),
            x.fallbacks,
            x.cache_hits,
            fmt_ms(x.p50_ms),
            fmt_ms(x.p95_ms),
            x.input_tokens + x.cached_tokens,
            x.output_tokens,
            fmt_usd(x.cost_usd),
        ]
        for x in d.by_route
    ]
    lines += table(["route", "task", "calls", "ok", "fallb", "cache", "p50", "p95", "in", "out", "cost"], rows, limit)
    for c in d.consensus[:limit]:
        lines.append(
            f"Consensus {c.strategy}: {c.runs} runs, {c.ok} ok, agreement {fmt_pct(c.mean_agreement)}, "
            f"cost {fmt_usd(c.cost_usd)}, p50 {fmt_ms(c.p50_ms)}"
        )
    return lines


def _health(r: StatsReport, limit: int) -> list[str]:
    h = r.health
    if h is None:
        return []
    rows = [
        [
            p.provider,
            p.calls,
            fmt_pct(p.error_rate),
            p.breaker_opens,
            p.breaker_state or "-",
            ", ".join(f"{k} {v}" for k, v in sorted(p.errors.items(), key=lambda kv: -kv[1])) or "-",
            ", ".join(f"{k} {v}" for k, v in sorted(p.not_its_fault.items(), key=lambda kv: -kv[1])) or "-",
        ]
        for p in h.providers
    ]
    return [
        "Provider health:",
        *table(["provider", "calls", "errors", "opens", "breaker", "error classes", "not its fault"], rows, limit),
    ]


def _savings(r: StatsReport, limit: int) -> list[str]:
    s = r.savings
    if s is None:
        return []
    excluded = [f"{s.unpriced_calls} unpriced calls excluded"] if s.unpriced_calls else []
    if s.unmeasured_calls:
        excluded.append(f"{s.unmeasured_calls} calls recorded before their Claude overhead excluded")
    lines = [
        f"Savings: {fmt_pct(s.delegation_rate)} of handed-off tasks delegated ({s.delegated_calls} delegate calls, "
        f"{s.subagent_runs} subagent runs), {fmt_usd(s.saved_usd)} saved "
        f"({fmt_usd(s.counterfactual_usd)} on Claude - {fmt_usd(s.actual_usd)} actual - "
        f"{fmt_usd(s.claude_overhead_usd)} Claude overhead" + (f"; {'; '.join(excluded)})" if excluded else ")")
    ]
    lines += table(
        ["route", "calls", "actual", "on claude", "claude overhead", "saved"],
        [
            [
                f"{x.provider}:{x.model}",
                x.calls,
                fmt_usd(x.actual_usd),
                fmt_usd(x.counterfactual_usd),
                fmt_usd(x.claude_overhead_usd),
                fmt_usd(x.saved_usd),
            ]
            for x in s.by_route
        ],
        limit,
    )
    if _only_savings(r):
        lines.append(f"Method: {s.method}")
    else:
        lines.append(
            "Method: counterfactual cost on the session's Claude model minus actual cost minus what asking and "
            "reading cost Claude (the savings section alone explains it)"
        )
    return lines


def _only_savings(r: StatsReport) -> bool:
    """Whether savings is the one section asked for: the method paragraph is for that reader only."""
    others = (r.sessions, r.tools, r.subagents, r.delegations, r.health, r.patterns, r.context)
    return all(section is None for section in others)


def _patterns(r: StatsReport, limit: int) -> list[str]:
    p = r.patterns
    if p is None:
        return []
    lines = [f"Recommendations (min {p.min_calls} calls behind each):"]
    lines += [f"- {x.text}" for x in p.recommendations[:limit]] or ["- none: not enough evidence for a change"]
    if len(p.recommendations) > limit:
        lines.append(f"... {len(p.recommendations) - limit} more")
    if limit > BRIEF_ROWS and p.routes:
        lines.append("By task type and model (* = current first choice):")
        rows = [
            [
                x.task_type,
                ("* " if x.first_choice else "") + x.route,
                x.calls,
                fmt_pct(x.success_rate),
                fmt_usd(x.cost_per_success_usd),
                fmt_ms(x.p50_ms),
            ]
            for x in p.routes
        ]
        lines += table(["task", "route", "calls", "ok", "$/success", "p50"], rows, limit)
    return lines


def _context(r: StatsReport, limit: int) -> list[str]:
    c = r.context
    if c is None:
        return []
    lines = [
        f"Context pressure (threshold {fmt_pct(c.threshold)} of {c.window_tokens:,}): {c.warnings} warnings in "
        f"{c.sessions_warned} sessions; {c.sessions_over_count} sessions over now"
    ]
    lines += [
        f"- {x.session_id}: {fmt_pct(x.fill_ratio)} ({x.context_tokens:,} tokens)" for x in c.sessions_over[:limit]
    ]
    return lines


def _routing(r: StatsReport, limit: int) -> list[str]:
    g = r.routing
    if g is None:
        return []
    lines = ["Learned routing" + ("" if g.enabled else " (off: [routing] learn = false; written order used)") + ":"]
    if not g.task_types:
        return [*lines, "- no evidence yet"]
    for t in g.task_types[:limit]:
        lines.append(
            f"{t.task_type}: learned order {', '.join(t.learned_order)} (written {', '.join(t.written_order)}); "
            f"learning overrode the written first {t.overrides} of {t.first_attempts} calls; first attempts failed "
            f"{t.failed_first} (written order, estimated: {t.written_failed_first:g}); cost at least "
            f"{fmt_usd(t.cost_usd)} (written, estimated: at least {fmt_usd(t.written_cost_usd)}"
            + (f", {t.written_unpriced_calls} unpriced" if t.written_unpriced_calls else "")
            + ")"
        )
        rows = [
            [
                m.model,
                m.calls,
                fmt_pct(m.success_rate),
                "-" if m.quality is None else f"{m.quality:.2f} ({m.quality_signals})",
                fmt_ms(m.latency_ms),
                fmt_usd(m.cost_usd),
            ]
            for m in t.models
        ]
        lines += [
            "  " + line for line in table(["model", "calls", "ok", "quality (n)", "latency", "$/answer"], rows, limit)
        ]
    if len(g.task_types) > limit:
        lines.append(f"... {len(g.task_types) - limit} more task types")
    return lines


_RENDERERS: list[Callable[[StatsReport, int], list[str]]] = [
    _sessions,
    _tools,
    _subagents,
    _delegations,
    _health,
    _savings,
    _patterns,
    _context,
    _routing,
]


def render_report(report: StatsReport, limit: int = 5) -> str:
    """The report's sections as text, each list cut to ``limit`` rows."""
    blocks = [f"Window: {report.window_text}"]
    for render in _RENDERERS:
        lines = render(report, limit)
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
