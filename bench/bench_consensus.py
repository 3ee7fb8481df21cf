"""How long a consensus run takes next to its slowest member (and judge) called alone.

Five members served by the fake OpenAI API on loopback, each answering after a scripted 200 ms; the judge
also takes 200 ms. In one process, interleaved repetition by repetition, it times:

- ``member``: one member's call alone (the engine's ``try_model``), the slowest a member can be;
- ``judge call``: the judge's call alone, with a real judge prompt;
- ``vote``: five members whose answers split 2/2/1, so no quorum stops it early: all five are heard;
- ``judge``: five members, then the judge;
- ``fastest``: five members, the first good answer wins and the rest are cancelled.

Prints medians and the ratios against the targets: ``vote`` and ``judge`` <= 1.15 x (member + judge call),
``fastest`` <= 1.15 x member. Runs include the store writes (SQLite in a temporary folder).

Usage: .venv/bin/python bench/bench_consensus.py [--reps N] [--latency-ms MS]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server.config import SwitchboardConfig  # noqa: E402
from server.engine.attempt import try_model  # noqa: E402
from server.engine.consensus.judge import build_judge_prompt  # noqa: E402
from server.engine.consensus.members import Member  # noqa: E402
from server.engine.consensus.run import ConsensusSpec, run_consensus  # noqa: E402
from server.engine.runtime import Runtime  # noqa: E402
from server.providers.base import ChatMessage, CompletionRequest  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.store.database import make_engine, migrate  # noqa: E402
from tests.fakes.openai_api import FakeOpenAI, Reply  # noqa: E402

MEMBERS = [f"m{i}" for i in range(1, 6)]
SPLIT = ["Final answer: 42", "Final answer: 42", "Final answer: 41", "Final answer: 41", "Final answer: 40"]
VERDICT = json.dumps({"answers": [{"label": "A", "scores": {"correctness": 9}}], "winner": "A"})
TARGET = 1.15


def config_for(fake: FakeOpenAI) -> SwitchboardConfig:
    models = [*MEMBERS, "judge"]
    providers = {
        f"p{model}": {"kind": "openai-compatible", "base_url": fake.base_url, "models": [model]} for model in models
    }
    return SwitchboardConfig.model_validate({"providers": providers})


def script_members(fake: FakeOpenAI, delay_s: float, answers: list[str]) -> None:
    for model, answer in zip(MEMBERS, answers, strict=True):
        fake.script(model, Reply(text=answer, delay_s=delay_s))


async def timed(action: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await action()
    return (time.perf_counter() - started) * 1000


async def bench(reps: int, delay_s: float) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in ("member", "judge call", "vote", "judge", "fastest")}
    with tempfile.TemporaryDirectory() as folder, FakeOpenAI(models=[*MEMBERS, "judge"]) as fake:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        migrate(engine)
        settings = Settings(home=Path(folder))
        runtime = Runtime.create(settings, config_for(fake), engine, environ={})
        registry = runtime.registry
        seats = tuple(Member(f"p{model}:{model}") for model in MEMBERS)
        member_info, judge_info = registry.model("pm5:m5"), registry.model("pjudge:judge")
        assert member_info is not None and judge_info is not None
        question = CompletionRequest(messages=(ChatMessage("user", "What is 6 x 7?"),))
        prompt = build_judge_prompt("What is 6 x 7?", SPLIT, seed="bench")
        judge_request = CompletionRequest(messages=(ChatMessage("user", prompt.user),), system=prompt.system)

        def spec(strategy: Any) -> ConsensusSpec:
            return ConsensusSpec(question="What is 6 x 7?", members=seats, strategy=strategy, judge="pjudge:judge")

        try:
            for rep in range(reps + 1):  # the first repetition warms connections up and is not counted
                fake.script("m5", Reply(text=SPLIT[4], delay_s=delay_s))
                fake.script("judge", Reply(text=VERDICT, delay_s=delay_s))
                sample = {
                    "member": await timed(lambda: try_model(runtime, member_info, question)),
                    "judge call": await timed(lambda: try_model(runtime, judge_info, judge_request)),
                }
                for strategy in ("vote", "judge", "fastest"):
                    script_members(fake, delay_s, SPLIT)
                    if strategy == "judge":
                        fake.script("judge", Reply(text=VERDICT, delay_s=delay_s))
                    sample[strategy] = await timed(lambda strategy=strategy: run_consensus(runtime, spec(strategy)))
                if rep:
                    for name, value in sample.items():
                        times[name].append(value)
        finally:
            await runtime.aclose()
            engine.dispose()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    args = parser.parse_args()
    times = anyio.run(bench, args.reps, args.latency_ms / 1000)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"five members, {args.latency_ms:g} ms scripted latency each (judge too); {args.reps} repetitions, medians")
    for name, value in median.items():
        print(f"  {name:<11} {value:8.1f} ms   (min {min(times[name]):.1f}, max {max(times[name]):.1f})")
    baseline_two = median["member"] + median["judge call"]
    rows = [
        ("vote", median["vote"], baseline_two, "member + judge call"),
        ("judge", median["judge"], baseline_two, "member + judge call"),
        ("fastest", median["fastest"], median["member"], "member"),
    ]
    failed = False
    print(f"ratios (target <= {TARGET}):")
    for name, value, baseline, against in rows:
        ratio = value / baseline
        failed |= ratio > TARGET
        verdict = "ok" if ratio <= TARGET else "OVER"
        print(f"  {name:<8} {value:7.1f} ms / {against} {baseline:7.1f} ms = {ratio:.3f}  {verdict}")
    print(f"  (vote over one member alone: {median['vote'] / median['member']:.3f}; all five are heard)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
