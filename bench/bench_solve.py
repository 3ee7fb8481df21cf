"""``solve`` (AB-MCTS) next to best-of-N sampling of the best model and a consensus vote, at equal numbers of calls.

Two fake models on the fake OpenAI API (loopback, each call answering after a scripted latency): ``good``
answers ``quality=0.5`` fresh and adds 0.25 each time it refines a parent (its k-th refinement scores
0.5 + 0.25 k); ``weak`` answers 0.25 and adds 0.05. One-shot sampling can never pass 0.5. A check (a Python
script, the answer on its stdin) prints the quality as the score, for every method alike.

- ``solve``: :func:`server.engine.solve.run.run_solve` over both models, ``max_calls`` calls, target 0.95;
- ``best-of-N``: ``max_calls`` fresh answers from ``good`` at once, the best-scored wins;
- ``consensus vote``: ``max_calls`` members (half ``good``, half ``weak``), the majority answer, scored.

Each is run ``--runs`` times (solve with a different seed each run). Prints, side by side: median score reached,
share of runs at >= 0.95, calls used, share of solve's calls that went to ``good``, median wall time, and solve's
search overhead (time inside TreeQuest's ask and tell) against its wall time. Targets: solve >= 0.95 within 10
calls in most runs, more calls to ``good`` than to ``weak``, overhead a small share of the wall time.

Usage: .venv/bin/python bench/bench_solve.py [--runs N] [--calls N] [--latency-ms MS] [--parallel N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server.config import SwitchboardConfig  # noqa: E402
from server.engine.attempt import try_model  # noqa: E402
from server.engine.consensus.members import Member  # noqa: E402
from server.engine.consensus.run import ConsensusSpec, run_consensus  # noqa: E402
from server.engine.runtime import Runtime  # noqa: E402
from server.engine.solve.check import run_check  # noqa: E402
from server.engine.solve.prompts import ANSWER_SYSTEM  # noqa: E402
from server.engine.solve.run import SolveSpec, run_solve  # noqa: E402
from server.providers.base import ChatMessage, CompletionRequest  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.store.database import make_engine, migrate  # noqa: E402
from tests.fakes.openai_api import FakeOpenAI  # noqa: E402
from tests.server.engine.solve_support import Quality, check_command, refining  # noqa: E402

QUALITIES = {"good": Quality(0.5, 0.25), "weak": Quality(0.25, 0.05)}
TASK = "Write the parser."
PASS = 0.95


def config_for(fake: FakeOpenAI, command: str, parallel: int) -> SwitchboardConfig:
    provider = {"kind": "openai-compatible", "base_url": fake.base_url, "models": list(QUALITIES)}
    solve = {"checks": {"quality": command}, "parallel": parallel}
    return SwitchboardConfig.model_validate({"providers": {"pf": provider}, "solve": solve})


async def score(command: str, answer: str | None, cwd: Path) -> float:
    if not answer:
        return 0.0
    return (await run_check(command, answer, cwd=cwd, timeout_s=30, environ={"PATH": "/usr/bin:/bin"})).score


async def solve_once(runtime: Runtime, command: str, calls: int, seed: int) -> dict[str, Any]:
    np.random.seed(seed)
    infos = tuple(info for info in runtime.registry.models())
    spec = SolveSpec(
        task=TASK,
        models=infos,
        check_name="quality",
        check_command=command,
        judge=None,
        max_calls=calls,
        target_score=PASS,
        parallel=runtime.config.solve.parallel,
        environ={"PATH": "/usr/bin:/bin"},
    )
    started = time.perf_counter()
    result = await run_solve(runtime, spec)
    wall = (time.perf_counter() - started) * 1000
    return {
        "score": result.best_score or 0.0,
        "calls": result.calls,
        "good": result.calls_by_model.get("pf:good", 0),
        "wall": wall,
        "overhead": result.search_overhead_ms,
    }


async def best_of_n(runtime: Runtime, command: str, calls: int, cwd: Path) -> dict[str, Any]:
    info = runtime.registry.model("pf:good")
    assert info is not None
    request = CompletionRequest(messages=(ChatMessage("user", TASK),), system=ANSWER_SYSTEM)
    scores: list[float] = []
    started = time.perf_counter()

    async def one() -> None:
        attempt = await try_model(runtime, info, request)
        scores.append(await score(command, attempt.completion.text if attempt.completion else None, cwd))

    async with anyio.create_task_group() as group:
        for _ in range(calls):
            group.start_soon(one)
    return {"score": max(scores), "calls": calls, "good": calls, "wall": (time.perf_counter() - started) * 1000}


async def vote(runtime: Runtime, command: str, calls: int, cwd: Path) -> dict[str, Any]:
    seats = tuple(Member("pf:good" if i % 2 == 0 else "pf:weak") for i in range(calls))
    started = time.perf_counter()
    result = await run_consensus(runtime, ConsensusSpec(question=TASK, members=seats, strategy="vote"))
    wall = (time.perf_counter() - started) * 1000
    reached = await score(command, result.final_answer, cwd)
    asked = [member for member in result.members if member.status != "skipped"]
    good = sum(1 for member in asked if member.model == "pf:good")
    return {"score": reached, "calls": len(asked), "good": good, "wall": wall}


def row(name: str, runs: list[dict[str, Any]]) -> str:
    median = statistics.median
    scores = [r["score"] for r in runs]
    passed = sum(1 for s in scores if s >= PASS) / len(runs)
    calls = median(r["calls"] for r in runs)
    good = sum(r["good"] for r in runs) / max(1, sum(r["calls"] for r in runs))
    overhead = median(r.get("overhead", 0.0) for r in runs)
    wall = median(r["wall"] for r in runs)
    return (
        f"{name:16s} {median(scores):>7.2f} {passed:>8.0%} {calls:>6.1f} {good:>9.0%} {wall:>9.0f} "
        f"{overhead:>10.1f} {overhead / wall:>8.1%}"
    )


async def bench(runs: int, calls: int, latency_s: float, parallel: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        command = check_command(cwd)
        with FakeOpenAI(models=list(QUALITIES), responder=refining(QUALITIES, delay_s=latency_s)) as fake:
            engine = make_engine(f"sqlite:///{folder}/bench.db")
            migrate(engine)
            runtime = Runtime.create(
                Settings(home=cwd), config_for(fake, command, parallel), engine, roots=[cwd], environ={}
            )
            try:
                await run_solve_warmup(runtime, command)
                results: dict[str, list[dict[str, Any]]] = {"solve": [], "best-of-N": [], "consensus vote": []}
                for run in range(runs):
                    results["solve"].append(await solve_once(runtime, command, calls, seed=run))
                    results["best-of-N"].append(await best_of_n(runtime, command, calls, cwd))
                    results["consensus vote"].append(await vote(runtime, command, calls, cwd))
            finally:
                await runtime.aclose()
                engine.dispose()
    print(f"{runs} runs, {calls} calls each, {latency_s * 1000:.0f} ms per call, solve parallel {parallel}")
    print(
        f"{'method':16s} {'score':>7s} {'>=0.95':>8s} {'calls':>6s} {'to good':>9s} {'wall ms':>9s} "
        f"{'search ms':>10s} {'overhead':>8s}"
    )
    for name, measured in results.items():
        print(row(name, measured))


async def run_solve_warmup(runtime: Runtime, command: str) -> None:
    """One small run first, so treequest's import and the first store write are not in the figures."""
    await solve_once(runtime, command, 1, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--parallel", type=int, default=2, help="solve's nodes at once (the config's default: 2)")
    args = parser.parse_args()
    anyio.run(bench, args.runs, args.calls, args.latency_ms / 1000, args.parallel)


if __name__ == "__main__":
    main()
