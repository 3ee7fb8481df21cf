"""Routing that learns: Thompson sampling per task type over each model's success, quality, cost and latency.

The written order (the task type's list, as ``plan_route`` ranked it) is the prior: with no evidence it is kept
exactly. With evidence, each candidate's utility ``success * p + quality * q - cost * c - latency * l`` is drawn
once per decision: ``p`` from Beta(successes, failures) and ``q`` from Beta(good, bad) posteriors, ``c`` and
``l`` the mean cost and latency relative to the dearest and slowest candidate. Evidence about a model fades with
the time since it was last observed (``half_life_h``), so a model that only failed lately is drawn first now and
then and a recovery is noticed. Only candidates already admitted are reordered: learning never adds a model.

This module stays light (no SQLAlchemy, no models): the MCP server imports routing before ``initialize``;
:class:`Evidence` comes from :mod:`server.store.routing_evidence` (standard library only). The totals come from
:mod:`server.routing.learn_store`, loaded into :class:`Learner` (an in-memory copy), so a decision costs
microseconds, not a query.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from server.config import LearnConfig
from server.store.routing_evidence import Evidence

__all__ = ["REFRESH_S", "Evidence", "Learned", "Learner", "utility_means"]

REFRESH_S = 2.0
"""How old the in-memory totals may get before a decision reloads them (other processes write too)."""


@dataclass(frozen=True)
class Learned:
    """A learned order: the candidates to try, what learning did (for the decision report), and whose first place
    it took (None when the written first model stays first)."""

    order: list[str]
    reason: str
    overrode: str | None = None


def _relative(values: Sequence[float | None]) -> list[float]:
    """Each value over the largest; an unknown one is the mean of the known (neither rewarded nor punished)."""
    known = [v for v in values if v is not None]
    top = max(known, default=0.0)
    if top <= 0:
        return [0.0 for _ in values]
    neutral = sum(known) / len(known) / top
    return [neutral if v is None else v / top for v in values]


def _prior_bonus(position: int, count: int) -> float:
    # The written order as pseudo-successes: the first model starts with two, the last with almost none.
    return 2 * (count - position) / count


def utility_means(weights: LearnConfig, written: Sequence[str], evidence: Sequence[Evidence]) -> list[float]:
    """Each candidate's utility at its posterior means (no sampling): the learned order as the page shows it."""
    costs = _relative([e.cost_usd for e in evidence])
    latencies = _relative([e.latency_ms for e in evidence])
    out: list[float] = []
    for position, e in enumerate(evidence):
        alpha = 1 + _prior_bonus(position, len(written)) + e.successes
        p = alpha / (alpha + 1 + e.calls - e.successes)
        q = (1 + e.quality_sum) / (2 + e.quality_n)
        out.append(_utility(weights, p, q, costs[position], latencies[position]))
    return out


def _utility(weights: LearnConfig, p: float, q: float, cost: float, latency: float) -> float:
    return weights.success * p + weights.quality * q - weights.cost * cost - weights.latency * latency


class Learner:
    """The in-memory copy of the totals, and the decisions made from it.

    Args:
        config: ``[routing.learn]``.
        rng: Random draws (tests and the benchmark pass a seeded one).
        now: The current time, aware UTC (for fading evidence).
        clock: Monotonic seconds (for the refresh age).
    """

    def __init__(
        self,
        config: LearnConfig,
        *,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._rng = rng or random.Random()
        self._now = now
        self._clock = clock
        self._totals: dict[tuple[str, str], Evidence] = {}
        self._loaded_at: float | None = None

    def replace(self, totals: Mapping[tuple[str, str], Evidence]) -> None:
        """Swap in freshly loaded totals, keyed by (task type, ``provider:model``)."""
        self._totals = dict(totals)
        self._loaded_at = self._clock()

    def add(self, increments: Mapping[tuple[str, str], Evidence]) -> None:
        """Count what this process just wrote, at once (the next reload brings it from the store anyway)."""
        for key, more in increments.items():
            self._totals[key] = self._totals.get(key, Evidence()) + more

    def keep(self) -> None:
        """Count the totals in memory as fresh (a reload failed: do not retry it on every call)."""
        self._loaded_at = self._clock()

    def stale(self, max_age_s: float = REFRESH_S) -> bool:
        return self._loaded_at is None or self._clock() - self._loaded_at > max_age_s

    def evidence(self, task_type: str, model: str) -> Evidence:
        return self._totals.get((task_type, model), Evidence())

    def task_types(self) -> list[str]:
        return sorted({task_type for task_type, _model in self._totals})

    def order(self, task_type: str, written: Sequence[str], explicit: str | None = None) -> Learned:
        """Reorder ``written`` (the admitted candidates, in the written order); ``explicit`` stays first."""
        head = [explicit] if explicit and written and written[0] == explicit else []
        rest = list(written[len(head) :])
        if not self.config.enabled:
            return Learned(list(written), "learning off ([routing] learn = false): configured order")
        faded = [self._faded(self.evidence(task_type, model)) for model in rest]
        if len(rest) < 2 or all(e.empty for e in faded):
            return Learned(list(written), "no evidence yet for this task type: configured order")
        drawn = self._draw(rest, faded)
        order = [model for _score, _position, model in sorted(drawn, key=lambda t: (-t[0], t[1]))]
        reason, overrode = self._explain(rest, order, faded)
        # With an explicit model first, learning ordered only the fallbacks: it took nobody's first place.
        return Learned(head + order, reason, None if head else overrode)

    def expected(self, task_type: str, written: Sequence[str]) -> Learned:
        """What :meth:`order` is expected to give ``written`` next (the posterior means, no draw), with its reason:
        for showing the order delegate will try before it is called."""
        if not self.config.enabled:
            return Learned(list(written), "learning off ([routing] learn = false): configured order")
        faded = [self._faded(self.evidence(task_type, model)) for model in written]
        if len(written) < 2 or all(e.empty for e in faded):
            return Learned(list(written), "no evidence yet for this task type: configured order")
        order = self.expected_order(task_type, written)
        reason, overrode = self._explain(list(written), order, faded)
        return Learned(order, reason, overrode)

    def expected_order(self, task_type: str, written: Sequence[str]) -> list[str]:
        """``written`` ranked by utility at the posterior means (no draw): what learning expects is best."""
        if not self.config.enabled:
            return list(written)
        faded = [self._faded(self.evidence(task_type, model)) for model in written]
        means = utility_means(self.config, written, faded)
        ranked = sorted(range(len(written)), key=lambda i: (-means[i], i))
        return [written[i] for i in ranked]

    def _faded(self, e: Evidence) -> Evidence:
        """``e`` with its counts shrunk by the time since it was last observed (discounted Thompson sampling)."""
        if e.last_at is None or e.empty:
            return e
        age_h = max(0.0, (self._now() - e.last_at).total_seconds() / 3600)
        keep = 0.5 ** (age_h / self.config.half_life_h)
        if keep > 0.999:
            return e
        return replace(
            e,
            calls=round(e.calls * keep),
            successes=round(e.successes * keep),
            quality_sum=e.quality_sum * keep,
            quality_n=round(e.quality_n * keep),
        )

    def _draw(self, models: list[str], evidence: list[Evidence]) -> list[tuple[float, int, str]]:
        costs = _relative([e.cost_usd for e in evidence])
        latencies = _relative([e.latency_ms for e in evidence])
        drawn: list[tuple[float, int, str]] = []
        for position, (model, e) in enumerate(zip(models, evidence, strict=True)):
            alpha = 1 + _prior_bonus(position, len(models)) + e.successes
            p = self._rng.betavariate(alpha, 1 + max(0, e.calls - e.successes))
            # No quality signal yet: the prior mean, not a uniform draw that would drown the success evidence.
            q = (
                self._rng.betavariate(1 + e.quality_sum, 1 + max(0.0, e.quality_n - e.quality_sum))
                if e.quality_n
                else 0.5
            )
            drawn.append((_utility(self.config, p, q, costs[position], latencies[position]), position, model))
        return drawn

    def _explain(self, written: list[str], order: list[str], evidence: list[Evidence]) -> tuple[str, str | None]:
        if order == written:
            calls = sum(e.calls for e in evidence)
            return f"learning kept the configured order ({calls} calls of evidence)", None
        if order[0] == written[0]:
            return f"learning reordered the fallbacks: {', '.join(order)}; configured order {', '.join(written)}", None
        first, was = order[0], written[0]
        means = utility_means(self.config, written, evidence)
        a, b = evidence[written.index(first)], evidence[0]
        configured = f"configured order {', '.join(written)}"
        if means[written.index(first)] < means[0]:
            return f"{first} before {was}: exploring ({first} has {a.calls} calls of evidence); {configured}", was
        return f"{first} before {was}: {_why(self.config, a, b)}; {configured}", was


def _why(weights: LearnConfig, a: Evidence, b: Evidence) -> str:
    """The signal that separates ``a`` (now first) from ``b`` (written first) the most, in words and numbers."""
    options: list[tuple[float, str]] = []
    if a.success_rate is not None and b.success_rate is not None:
        text = f"success {a.success_rate:.2f} vs {b.success_rate:.2f} over {a.calls} and {b.calls} calls"
        options.append((weights.success * (a.success_rate - b.success_rate), text))
    elif a.success_rate is not None:
        options.append((0.0, f"success {a.success_rate:.2f} over {a.calls} calls vs no calls yet"))
    if a.quality is not None or b.quality is not None:
        qa, qb = a.quality if a.quality is not None else 0.5, b.quality if b.quality is not None else 0.5
        text = f"quality {_num(a.quality)} vs {_num(b.quality)} from {a.quality_n} and {b.quality_n} signals"
        options.append((weights.quality * (qa - qb), text))
    if a.cost_usd is not None and b.cost_usd is not None:
        text = f"mean cost ${a.cost_usd:.6f} vs ${b.cost_usd:.6f}"
        options.append((weights.cost * (b.cost_usd - a.cost_usd) / max(a.cost_usd, b.cost_usd, 1e-12), text))
    if a.latency_ms is not None and b.latency_ms is not None:
        text = f"mean latency {a.latency_ms:.0f} vs {b.latency_ms:.0f} ms"
        options.append((weights.latency * (b.latency_ms - a.latency_ms) / max(a.latency_ms, b.latency_ms, 1e-9), text))
    if not options:
        return "drawn from the prior"
    return max(options, key=lambda option: option[0])[1]


def _num(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}"
