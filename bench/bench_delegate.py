"""Overhead of ``delegate``: one call through the MCP client minus the same request made directly with the
openai SDK, both against the same zero-latency fake on loopback, measured side by side (interleaved).

Two set-ups, one after the other:
1. in process: the in-memory MCP client against ``build_server`` (and the engine alone, without MCP);
2. as Claude Code runs it: MCP over the launcher's stdio (``hooks/launcher.py``) to the warm service. There the
   engine's share is ``delegate`` minus the direct SDK call minus a trivial MCP tool (``get_output`` of an unknown
   id) on the same connection, each triple interleaved, the difference taken per triple.

Every call's rows are written ahead to ``spool/records/`` before its answer (issue 18) and reach the store behind
it: both are in the figures.

Run: .venv/bin/python bench/bench_delegate.py [--calls 300]
Targets (issues 10 and 18): the engine's own share p50 <= 1 ms, in process and through the launcher and service;
delegate through MCP within 1.5x of a direct SDK call (p50 ratio).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp import Client
from openai import AsyncOpenAI

from server.config import SwitchboardConfig
from server.engine.delegate import DelegateParams, delegate
from server.engine.runtime import Runtime
from server.service.instance import read_state
from server.settings import Settings
from server.store.database import make_engine, migrate
from server.store.recorder import Recorder
from server.tools import SessionOptions, build_server
from tests.fakes.openai_api import FakeOpenAI
from tests.server.service.launch import Session, service_env, stop_service


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


_WRITE_AHEAD = Recorder._write_ahead  # pyright: ignore[reportPrivateUsage]


def loop_cpu_ns(pid: int) -> int:
    """CPU time of ``pid``'s main thread (the service's event loop), in ns, from the scheduler's own count."""
    return int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[0])


async def main(calls: int, write_ahead: bool = True) -> float:
    """The in-process set-up; returns the p50 of the engine's share in loop CPU ms."""
    if not write_ahead:  # for the comparison only: the product has no switch to turn it off
        Recorder._write_ahead = lambda self, batch: None  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(models=["model-a"]) as fake:
        os.environ["SWITCHBOARD_HOME"] = tmp
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate(engine)
        config = SwitchboardConfig.model_validate(
            {"providers": {"acme": {"base_url": fake.base_url, "models": ["model-a"]}}}
        )
        server = build_server(Settings(), config, SessionOptions(store=engine, environ={}, ingest=False))
        direct = AsyncOpenAI(api_key="k", base_url=fake.base_url, max_retries=0)
        messages = [{"role": "user", "content": "ping"}]
        via_mcp: list[float] = []
        via_sdk: list[float] = []
        via_engine: list[float] = []
        via_noop: list[float] = []
        cpu_engine: list[float] = []
        """The event loop thread's CPU for delegate minus a direct SDK call: the engine's share, little moved by
        other processes on a loaded machine (the recorder writes on its own thread)."""
        runtime = Runtime.create(Settings(), config, engine, environ={})
        params = DelegateParams(task="ping", task_type="general")
        async with Client(server) as client:
            for i in range(calls + 20):
                t0 = time.perf_counter()
                result = await client.call_tool("delegate", {"task": "ping", "task_type": "general"})
                t1 = time.perf_counter()
                await direct.chat.completions.create(model="model-a", messages=messages)  # type: ignore[arg-type]
                t2, c2 = time.perf_counter(), time.thread_time()
                await delegate(runtime, params)
                t3, c3 = time.perf_counter(), time.thread_time()
                await direct.chat.completions.create(model="model-a", messages=messages)  # type: ignore[arg-type]
                c4, t3b = time.thread_time(), time.perf_counter()
                await client.call_tool("get_output", {"output_id": "none"})
                t4 = time.perf_counter()
                assert not result.is_error, result.content
                if i >= 20:  # warm-up: SDK import, connection pools, SQLite pages
                    via_mcp.append((t1 - t0) * 1000)
                    via_sdk.append((t2 - t1) * 1000)
                    via_engine.append((t3 - t2) * 1000)
                    via_noop.append((t4 - t3b) * 1000)
                    cpu_engine.append(((c3 - c2) - (c4 - c3)) * 1000)
        await runtime.aclose()  # the recorder writes what it holds before the store goes
        await direct.close()
        engine.dispose()
    Recorder._write_ahead = _WRITE_AHEAD  # type: ignore[method-assign]
    overhead = [m - s for m, s in zip(via_mcp, via_sdk, strict=True)]
    print(
        f"\nin process, write-ahead {'on' if write_ahead else 'OFF (comparison)'}: {calls} calls "
        "(each: one delegate through the in-memory MCP client, one direct openai SDK call)"
    )
    print(f"{'':28}{'p50 ms':>10}{'p90 ms':>10}{'mean ms':>10}")
    rows = (
        ("delegate via MCP client", via_mcp),
        ("openai SDK direct", via_sdk),
        ("overhead (paired difference)", overhead),
        ("  of which: engine, no MCP", [e - s for e, s in zip(via_engine, via_sdk, strict=True)]),
        ("  MCP round trip, tiny tool", via_noop),
        ("engine share, loop CPU", cpu_engine),
    )
    for name, values in rows:
        print(f"{name:28}{pct(values, 0.5):10.2f}{pct(values, 0.9):10.2f}{statistics.fmean(values):10.2f}")
    ratio = pct(via_mcp, 0.5) / pct(via_sdk, 0.5)
    p50_overhead = pct(overhead, 0.5)
    engine_share = pct([e - s for e, s in zip(via_engine, via_sdk, strict=True)], 0.5)
    print(
        f"p50 engine share = {engine_share:.2f} ms (target <= 1 ms: {'OK' if engine_share <= 1 else 'OVER TARGET'}); "
        f"p50 ratio MCP/direct = {ratio:.2f}x (target <= 1.5x: {'OK' if ratio <= 1.5 else 'OVER TARGET'}); "
        f"p50 overhead = {p50_overhead:.2f} ms"
    )
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (a loaded machine inflates every figure)")
    return pct(cpu_engine, 0.5)


async def through_service(calls: int) -> None:
    """The engine's share through the launcher and the warm service (see the module docstring, set-up 2)."""
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(models=["model-a"]) as fake:
        home = Path(tmp) / "home"
        config = Path(tmp) / "switchboard.toml"
        config.write_text(f'[providers.acme]\nbase_url = "{fake.base_url}"\nmodels = ["model-a"]\n')
        env = service_env(home, SWITCHBOARD_CONFIG=str(config))
        env.pop("SWITCHBOARD_DATABASE_URL", None)
        direct = AsyncOpenAI(api_key="k", base_url=fake.base_url, max_retries=0)
        messages = [{"role": "user", "content": "ping"}]
        delegates: list[float] = []
        sdk: list[float] = []
        noop: list[float] = []
        cpu_share: list[float] = []
        session = Session(env)
        try:
            session.initialize()
            pid = int((read_state(home) or {})["pid"])
            for i in range(calls + 20):
                t0, s0 = time.perf_counter(), loop_cpu_ns(pid)
                result = session.call("delegate", task="ping", task_type="general")
                t1, s1, c1 = time.perf_counter(), loop_cpu_ns(pid), time.thread_time()
                await direct.chat.completions.create(model="model-a", messages=messages)  # type: ignore[arg-type]
                t2, c2, s2 = time.perf_counter(), time.thread_time(), loop_cpu_ns(pid)
                session.call("get_output", output_id="none")
                t3, s3 = time.perf_counter(), loop_cpu_ns(pid)
                assert not result["isError"], result
                if i >= 20:
                    delegates.append((t1 - t0) * 1000)
                    sdk.append((t2 - t1) * 1000)
                    noop.append((t3 - t2) * 1000)
                    # The service loop's CPU for delegate, minus its CPU for the trivial tool, minus the CPU of
                    # the same SDK call made here: little moved by other processes on a loaded machine.
                    cpu_share.append(((s1 - s0) - (s3 - s2)) / 1e6 - (c2 - c1) * 1000)
            pending = len(list((home / "spool" / "records" / "new").glob("*.json")))
        finally:
            session.close()
            stop_service(home)
            await direct.close()
    share = [d - s - n for d, s, n in zip(delegates, sdk, noop, strict=True)]
    print(f"\nthrough the launcher and the warm service, {calls} triples (delegate, direct SDK call, trivial tool):")
    print(f"{'':28}{'p50 ms':>10}{'p90 ms':>10}{'mean ms':>10}")
    for name, values in (
        ("delegate via launcher", delegates),
        ("openai SDK direct", sdk),
        ("trivial tool via launcher", noop),
        ("engine share (per triple)", share),
        ("engine share, loop CPU", cpu_share),
    ):
        print(f"{name:28}{pct(values, 0.5):10.2f}{pct(values, 0.9):10.2f}{statistics.fmean(values):10.2f}")
    engine_share = pct(share, 0.5)
    of_medians = pct(delegates, 0.5) - pct(sdk, 0.5) - pct(noop, 0.5)
    cpu = pct(cpu_share, 0.5)

    def verdict(value: float) -> str:
        return "OK" if value <= 1 else "OVER TARGET"

    print(
        f"p50 engine share through the service, write-ahead on (target <= 1 ms): wall {engine_share:.2f} ms "
        f"({verdict(engine_share)}; difference of the medians {of_medians:.2f} ms), service loop CPU {cpu:.2f} ms "
        f"({verdict(cpu)}; the steadier figure on a loaded machine); batches left in spool/records/new: {pending}"
    )
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


async def both(calls: int) -> None:
    on = await main(calls)
    off = await main(calls, write_ahead=False)
    print(f"\nwrite-ahead's cost in process: loop CPU p50 {on:.2f} ms on vs {off:.2f} ms off ({on - off:+.2f} ms)")
    await through_service(calls)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    anyio.run(both, parser.parse_args().calls)
