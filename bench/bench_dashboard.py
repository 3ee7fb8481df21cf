"""Dashboard server time on a store of about 1,000,000 events (target: overview p50 <= 150 ms).

Usage: .venv/bin/python bench/bench_dashboard.py [--store PATH] [--regenerate] [--runs N]

The store comes from bench/generate_store.py (built on first use). Requests go through the whole ASGI app
in-process (routing, middleware, analytics queries, Jinja rendering or JSON encoding), timed from request to
last body byte, p50 over --runs requests:
- "view built (no cache)": every request runs the analytics behind the page (the cost of a rebuild);
- "store unchanged (cache hit)": a repeat request, answered by the view cache;
- "right after a store change": the app as it runs (stale-while-revalidate): answered from the previous view
  while the rebuild runs in the background; the next line is how long until the rebuilt view is ready.
Each figure is printed beside its target and the ratio, measured in the same run, then the analytics calls
behind the overview one by one, and the spend cards computed both ways (one conditional-sum pass against a
full sessions and delegations summary per window, as the overview did before).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard import build_app  # noqa: E402
from dashboard.live import store_marks  # noqa: E402
from dashboard.views import overview  # noqa: E402
from dashboard.views.overview import start_of_today  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.store.database import make_engine, migrate  # noqa: E402
from server.store.models import (  # noqa: E402
    ConsensusRun,
    Delegation,
    ModelUsage,
    Prompt,
    ProviderEvent,
    RawEvent,
    SubagentRun,
    ToolCall,
)

TARGET_MS = 150.0
EVENT_TABLES = (RawEvent, ToolCall, Prompt, ModelUsage, SubagentRun, Delegation, ProviderEvent, ConsensusRun)


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_store", ROOT / "bench" / "generate_store.py")
    if spec is None or spec.loader is None:
        raise SystemExit("bench/generate_store.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def open_store(path: Path, regenerate: bool) -> Engine:
    if regenerate or not path.exists():
        print(f"building the store with bench/generate_store.py -> {path} ...", flush=True)
        started = time.perf_counter()
        _generator().generate(path)
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


def count_events(engine: Engine) -> tuple[int, int]:
    from server.store.models import AgentSession

    with Session(engine) as db:
        events = sum(db.exec(select(func.count()).select_from(t)).one() for t in EVENT_TABLES)
        sessions = db.exec(select(func.count()).select_from(AgentSession)).one()
    return events, sessions


def p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def timed(runs: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def request_times(app: Any, path: str, runs: int) -> list[float]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:

        async def get() -> None:
            response = await client.get(path)
            response.raise_for_status()

        await get()  # first request: imports, template compile, SQLite page cache
        return await timed(runs, get)


def row(name: str, ms: float, target: float | None) -> None:
    if target is None:
        print(f"{name:46} {ms:9.1f} ms")
    else:
        print(f"{name:46} {ms:9.1f} ms   target {target:4.0f} ms   ratio {ms / target:6.3f}x")


async def after_change_times(app: Any, engine: Engine, path: str, runs: int) -> tuple[list[float], list[float]]:
    """Request ``path`` right after a store change, with the app's background refresh running: the time to
    answer, and the time until the rebuilt view is ready (what a live page waits for its update)."""
    cache = app.state.views
    transport = httpx.ASGITransport(app=app)
    served: list[float] = []
    rebuilt: list[float] = []
    async with (
        anyio.create_task_group() as tasks,
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        cache.attach(tasks)
        (await client.get(path)).raise_for_status()  # built once, as at start-up
        for _ in range(runs):
            ready = anyio.Event()
            cache.on_refreshed = lambda _key, ready=ready: ready.set()
            touch(engine)
            started = time.perf_counter()
            (await client.get(path)).raise_for_status()
            served.append(time.perf_counter() - started)
            with anyio.fail_after(120):
                await ready.wait()
            rebuilt.append(time.perf_counter() - started)
        cache.attach(None)
    return served, rebuilt


def first_session_id(engine: Engine) -> str:
    from server.store.models import AgentSession

    with Session(engine) as db:
        return db.exec(select(AgentSession.session_id).order_by(col(AgentSession.started_at).desc()).limit(1)).one()


def touch(engine: Engine) -> None:
    """A store change, as a delegation engine makes: one provider event row (removed by ``untouch``)."""
    with Session(engine) as db:
        db.add(ProviderEvent(provider="bench-touch", event="error", error_class="bench"))
        db.commit()


def untouch(engine: Engine) -> None:
    with Session(engine) as db:
        for event in db.exec(select(ProviderEvent).where(col(ProviderEvent.provider) == "bench-touch")).all():
            db.delete(event)
        db.commit()


async def main_async(args: argparse.Namespace) -> None:
    engine = open_store(args.store, args.regenerate)
    events, sessions = count_events(engine)
    print(f"store: {args.store}  {events:,} events over {sessions:,} sessions  runs per figure: {args.runs}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (other work skews every figure)")
    settings = Settings()
    uncached = build_app(engine, settings, ingest=False, cache_max_age_s=0, serve_stale_s=0)
    cached = build_app(engine, settings, ingest=False)
    print("\nserver time of the overview (request to last byte, in-process ASGI):")
    built_api = p50_ms(await request_times(uncached, "/api/overview", args.runs))
    row("GET /api/overview, view built (no cache)", built_api, TARGET_MS)
    row("GET /, view built (no cache)", p50_ms(await request_times(uncached, "/", args.runs)), TARGET_MS)
    row("GET /, store unchanged (cache hit)", p50_ms(await request_times(cached, "/", args.runs)), TARGET_MS)
    served, rebuilt = await after_change_times(cached, engine, "/", args.runs)
    untouch(engine)
    row("GET /, right after a store change (stale)", p50_ms(served), TARGET_MS)
    row("  ...until the rebuilt overview is ready", p50_ms(rebuilt), None)
    print("\nother pages, view built (no cache):")
    session_id = first_session_id(engine)
    for path in ("/sessions", "/sessions?q=fix", f"/sessions/{session_id}", "/delegations", "/providers", "/patterns"):
        row(f"GET {path}", p50_ms(await request_times(uncached, path, max(3, args.runs // 3))), None)
    marks = await timed(args.runs, lambda: anyio.to_thread.run_sync(store_marks, engine))
    row("store_marks (one /events poll)", p50_ms(marks), None)

    def build_overview() -> None:
        with Session(engine) as db:
            overview(db)

    direct = await timed(args.runs, lambda: anyio.to_thread.run_sync(build_overview))
    row("views.overview() alone (analytics calls)", p50_ms(direct), TARGET_MS)
    print("\nwhere a cold overview's time goes (server.analytics calls it makes, p50 each):")
    for name, call in overview_calls().items():

        def run(call: Callable[[Session], object] = call) -> None:
            with Session(engine) as db:
                call(db)

        row(f"  {name}", p50_ms(await timed(max(3, args.runs // 3), lambda: anyio.to_thread.run_sync(run))), None)
    spend_runs = max(3, args.runs // 3)

    def spend_old() -> None:
        with Session(engine) as db:
            spend_by_summaries(db)

    old = p50_ms(await timed(spend_runs, lambda: anyio.to_thread.run_sync(spend_old)))
    new = p50_ms(await timed(spend_runs, lambda: anyio.to_thread.run_sync(lambda: run_spend(engine))))
    print(f"\nspend cards: one conditional-sum pass {new:.1f} ms against a summary per window {old:.1f} ms", end="")
    print(f" (ratio {new / old:.2f}x)")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    engine.dispose()


def overview_calls() -> dict[str, Callable[[Session], object]]:
    """The analytics calls behind :func:`dashboard.views.overview`, one by one."""
    from server.analytics.context import context_pressure
    from server.analytics.delegations import delegation_stats
    from server.analytics.health import provider_health
    from server.analytics.savings import savings
    from server.analytics.sessions import recent_sessions, tokens_by_model
    from server.analytics.spend import spend_since
    from server.analytics.subagents import subagent_stats
    from server.analytics.tools import tool_stats
    from server.analytics.window import Window
    from server.store.models import utcnow

    now = utcnow()
    week = Window(since=now - timedelta(days=7))
    month = Window(since=now - timedelta(days=30))
    starts = [start_of_today(now), now - timedelta(days=7), now - timedelta(days=30)]
    return {
        "spend_since (today, 7 and 30 days)": lambda db: spend_since(db, starts),
        "tokens_by_model (30 days)": lambda db: tokens_by_model(db, month),
        "delegation_stats (7 days)": lambda db: delegation_stats(db, week),
        "savings (30 days)": lambda db: savings(db, month),
        "provider_health (7 days)": lambda db: provider_health(db, week),
        "tool_stats (7 days)": lambda db: tool_stats(db, week),
        "subagent_stats (7 days)": lambda db: subagent_stats(db, week),
        "context_pressure (7 days)": lambda db: context_pressure(db, week, limit=5),
        "recent_sessions (10)": lambda db: recent_sessions(db, Window(), limit=10),
    }


def run_spend(engine: Engine) -> None:
    from server.analytics.spend import spend_since
    from server.store.models import utcnow

    now = utcnow()
    with Session(engine) as db:
        spend_since(db, [start_of_today(now), now - timedelta(days=7), now - timedelta(days=30)])


def spend_by_summaries(db: Session) -> None:
    """The spend cards as the overview built them before ``spend_since``: a full summary per window."""
    from server.analytics.delegations import delegation_stats
    from server.analytics.sessions import sessions_summary
    from server.analytics.window import Window
    from server.store.models import utcnow

    now = utcnow()
    for since in (start_of_today(now), now - timedelta(days=7), now - timedelta(days=30)):
        sessions_summary(db, Window(since=since))
        delegation_stats(db, Window(since=since))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", type=Path, default=Path("/tmp/switchboard-bench-dashboard.db"))
    parser.add_argument("--regenerate", action="store_true", help="rebuild the store even if it exists")
    parser.add_argument("--runs", type=int, default=15)
    anyio.run(main_async, parser.parse_args())


if __name__ == "__main__":
    main()
