"""Learned routing against the written order and the oracle, on simulated models with known behaviour.

An in-process simulator over the real router: each call asks :class:`server.routing.learn.Learner` (the one
``delegate`` uses) for an order, walks it like ``delegate``'s fallback (the next model when one fails), and
folds the outcome back as the store would (success, latency and cost of each attempt; a quality signal, like
``feedback``, for half of the answers). Models have known success rates, latencies, prices and quality, so the
best one is known: the oracle always tries it first.

Printed side by side for learning on and off (the written order), averaged over seeds:
- share of first attempts that go to the best model, over calls 51-100 of each task type (goal >= 80%);
- cumulative regret against the oracle (expected utility lost, with the weights of ``[routing.learn]``) at
  25/50/100/200/400 calls, and its growth 100 -> 400 (sublinear: well under 4x);
- total cost, first attempts that failed, and calls where every model failed;
- the time one decision takes.

Usage: .venv/bin/python bench/bench_routing.py [--seeds N] [--calls N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server.config import LearnConfig  # noqa: E402
from server.routing.learn import Evidence, Learner  # noqa: E402

NOW = datetime(2026, 11, 29, tzinfo=UTC)


@dataclass(frozen=True)
class SimModel:
    name: str
    success: float
    quality: float
    latency_ms: float
    cost_usd: float


# Written order first; in each task type the best model (by true utility) is not the first one listed.
TASK_TYPES: dict[str, list[SimModel]] = {
    "code_fix": [
        SimModel("flaky70-a", success=0.30, quality=0.80, latency_ms=300, cost_usd=0.0010),
        SimModel("ok-b", success=0.98, quality=0.80, latency_ms=500, cost_usd=0.0012),
        SimModel("slow-c", success=0.99, quality=0.80, latency_ms=4000, cost_usd=0.0030),
    ],
    "ui": [
        SimModel("cheap-weak", success=0.97, quality=0.35, latency_ms=400, cost_usd=0.0002),
        SimModel("strong", success=0.97, quality=0.90, latency_ms=900, cost_usd=0.0040),
    ],
    "research": [
        SimModel("pricey", success=0.95, quality=0.85, latency_ms=2000, cost_usd=0.0300),
        SimModel("good-value", success=0.95, quality=0.85, latency_ms=1500, cost_usd=0.0030),
        SimModel("so-so", success=0.90, quality=0.60, latency_ms=1000, cost_usd=0.0010),
    ],
}
FEEDBACK_SHARE = 0.5
CHECKPOINTS = (25, 50, 100, 200, 400)


def true_utility(weights: LearnConfig, models: list[SimModel]) -> dict[str, float]:
    top_cost = max(m.cost_usd for m in models)
    top_latency = max(m.latency_ms for m in models)
    return {
        m.name: weights.success * m.success
        + weights.quality * m.quality
        - weights.cost * m.cost_usd / top_cost
        - weights.latency * m.latency_ms / top_latency
        for m in models
    }


def fold(evidence: Evidence, ok: bool, model: SimModel, quality: float | None) -> Evidence:
    """One attempt (and maybe one quality signal) added, as ``routing_stat`` adds it."""
    return replace(
        evidence,
        calls=evidence.calls + 1,
        successes=evidence.successes + ok,
        latency_ms_sum=evidence.latency_ms_sum + (model.latency_ms if ok else 0),
        latency_n=evidence.latency_n + ok,
        cost_usd_sum=evidence.cost_usd_sum + (model.cost_usd if ok else 0),
        cost_n=evidence.cost_n + ok,
        quality_sum=evidence.quality_sum + (quality or 0.0),
        quality_n=evidence.quality_n + (quality is not None),
        last_at=NOW,
    )


@dataclass
class Run:
    best_first: int = 0
    regret: float = 0.0
    regret_at: dict[int, float] | None = None
    cost: float = 0.0
    first_failed: int = 0
    all_failed: int = 0


def simulate(task_type: str, models: list[SimModel], learn: bool, calls: int, seed: int) -> Run:
    weights = LearnConfig(enabled=learn)
    learner = Learner(weights, rng=random.Random(seed), now=lambda: NOW)
    world = random.Random(seed + 10_000)
    by_name = {m.name: m for m in models}
    utility = true_utility(weights, models)
    best = max(utility, key=lambda name: utility[name])
    totals = {(task_type, m.name): Evidence() for m in models}
    run = Run(regret_at={})
    for n in range(1, calls + 1):
        learner.replace(totals)
        order = learner.order(task_type, [m.name for m in models]).order
        run.regret += utility[best] - utility[order[0]]
        if 50 < n <= 100 and order[0] == best:
            run.best_first += 1
        answered = False
        for position, name in enumerate(order):
            model = by_name[name]
            ok = world.random() < model.success
            quality = None
            if ok:
                run.cost += model.cost_usd
                if world.random() < FEEDBACK_SHARE:
                    quality = float(world.random() < model.quality)
            elif position == 0:
                run.first_failed += 1
            totals[(task_type, name)] = fold(totals[(task_type, name)], ok, model, quality)
            if ok:
                answered = True
                break
        run.all_failed += not answered
        if n in CHECKPOINTS:
            assert run.regret_at is not None
            run.regret_at[n] = run.regret
    return run


def decision_us() -> float:
    learner = Learner(LearnConfig(), rng=random.Random(1), now=lambda: NOW)
    written = [f"p:m{i}" for i in range(6)]
    learner.replace({("t", m): Evidence(calls=100, successes=80 + i, last_at=NOW) for i, m in enumerate(written)})
    started = time.perf_counter()
    for _ in range(5_000):
        learner.order("t", written)
    return (time.perf_counter() - started) / 5_000 * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--calls", type=int, default=max(CHECKPOINTS))
    args = parser.parse_args()
    print(f"{args.seeds} seeds x {args.calls} calls per task type; written order vs learned vs oracle")
    for task_type, models in TASK_TYPES.items():
        print(f"\n{task_type}: written order {', '.join(m.name for m in models)}")
        header = "  {:<8} {:>12} " + " ".join("{:>9}" for _ in CHECKPOINTS) + " {:>8} {:>9} {:>9} {:>8}"
        print(
            header.format(
                "mode", "best 51-100", *[f"R@{c}" for c in CHECKPOINTS], "R400/100", "cost $", "1st fail", "all fail"
            )
        )
        for learn in (False, True):
            runs = [simulate(task_type, models, learn, args.calls, seed) for seed in range(args.seeds)]
            regret = [statistics.mean((r.regret_at or {}).get(c, 0.0) for r in runs) for c in CHECKPOINTS]
            growth = regret[-1] / regret[2] if regret[2] else float("nan")
            row = (
                "  {:<8} {:>11.0%} "
                + " ".join("{:>9.1f}" for _ in CHECKPOINTS)
                + " {:>8.2f} {:>9.4f} {:>9.1f} {:>8.1f}"
            )
            print(
                row.format(
                    "learned" if learn else "written",
                    statistics.mean(r.best_first for r in runs) / 50,
                    *regret,
                    growth,
                    statistics.mean(r.cost for r in runs),
                    statistics.mean(r.first_failed for r in runs),
                    statistics.mean(r.all_failed for r in runs),
                )
            )
    print(f"\none decision (6 candidates): {decision_us():.1f} us")


if __name__ == "__main__":
    main()
