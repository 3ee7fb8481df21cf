"""``switchboard import`` beside ``ccusage daily`` on one projects folder written the way Claude Code writes it.

Usage: .venv/bin/python bench/bench_import.py [SESSIONS] [TURNS] [ROUNDS]
(default 40 sessions of ~1,400 requests, ~240 MB; 3 rounds)

The folder (tests/fakes/projects_folder.py): compact JSON, one line per content block with the usage repeated
(streamed duplicates), 5-minute and 1-hour cache writes, Sonnet requests past 200k input tokens, subagents with
their own agent ids, no cost-state record. Prints side by side, in one run: switchboard's first import and a
second one with nothing new (wall time, peak RSS), ``ccusage daily --json --offline`` on the same folder
(``cd bench && npm install`` installs the pinned ccusage; ``CCUSAGE=path`` overrides), the token totals of each,
and the cost totals: what switchboard stored per response (estimated at list prices), its sessions' cost of
record (Claude Code's own figure where a transcript has one, else the same estimate), ccusage's, and a
recomputation from the files at Anthropic's published rates.

The folder is written and flushed to disk (``os.sync``) before anything is timed: the kernel writing a GB back
in the background slowed whichever command ran first. ``ccusage`` and a first import into a new store then run
in turn, ROUNDS times; each row gives the round of median wall time (this machine's run-to-run spread is ~15%).
"""

from __future__ import annotations

import compileall
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakes.projects_folder import list_price, usage_lines, write_projects  # noqa: E402

SWITCHBOARD = REPO / ".venv" / "bin" / "switchboard"
CCUSAGE = Path(os.environ.get("CCUSAGE") or REPO / "bench" / "node_modules" / ".bin" / "ccusage")


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    out: bytes = b""


# Runs the command and writes its exit code, CPU seconds and peak RSS (KiB) to the fd its first argument names.
# Linux keeps a process's peak RSS across exec, so a command started straight from this benchmark, which holds
# the folder's expected totals (~300 MB at 10,000 sessions), reported this process's size as its own; started
# from this small process, it reports its own.
_MEASURE = """
import os, subprocess, sys
report = int(sys.argv[1])
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
os.write(report, f"{os.waitstatus_to_exitcode(status)} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}".encode())
"""


def _run_child(command: list[str], env: dict[str, str]) -> Run:
    """Wall and CPU seconds (user + system, all threads, and the processes it waited for) and peak RSS of one
    command, started through :data:`_MEASURE`."""
    read, write = os.pipe()
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-S", "-c", _MEASURE, str(write), *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        pass_fds=(write,),
    )
    os.close(write)
    assert child.stdout is not None
    out = child.stdout.read()
    child.wait()
    wall = time.perf_counter() - started
    with os.fdopen(read, "rb") as report:
        code, cpu, rss_kb = report.read().split()
    if int(code):
        raise SystemExit(f"{command[0]} exited {int(code)}")
    return Run(wall, float(cpu), int(rss_kb) / 1024, out)


def _env(state: Path) -> dict[str, str]:
    return {**os.environ, "SWITCHBOARD_HOME": str(state), "SWITCHBOARD_DATABASE_URL": ""}


def _switchboard(root: Path, state: Path) -> Run:
    return _run_child([str(SWITCHBOARD), "import", "--quiet", "--projects-dir", str(root)], _env(state))


_IN_PROCESS = """
import sys, time
from pathlib import Path
from server.store.database import open_store
from server.store.importer import import_transcripts
engine = open_store()
started = time.perf_counter()
import_transcripts(engine, Path(sys.argv[1]))
print(time.perf_counter() - started)
"""


def _in_process(root: Path, state: Path) -> float:
    """The import's own seconds, without the interpreter's start and the store's modules."""
    python = SWITCHBOARD.with_name("python")
    return float(_run_child([str(python), "-c", _IN_PROCESS, str(root)], _env(state)).out)


def _ccusage(config: Path) -> tuple[Run, dict[str, Any]] | None:
    if not CCUSAGE.exists():
        return None
    run = _run_child([str(CCUSAGE), "daily", "--json", "--offline"], {**os.environ, "CLAUDE_CONFIG_DIR": str(config)})
    return run, orjson.loads(run.out)["totals"]


def _stored(state: Path) -> dict[str, float]:
    with sqlite3.connect(state / "switchboard.db") as db:
        usage = db.execute(
            "select sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_creation_tokens),"
            " sum(cache_creation_1h_tokens), sum(cost_usd), count(*), sum(cost_usd is null) from model_usage"
        ).fetchone()
        record = db.execute("select sum(cost_usd), sum(cost_source = 'claude_code') from session").fetchone()
    keys = ["input", "output", "cache_read", "cache_write", "cache_write_1h", "cost", "rows", "unpriced"]
    return {**dict(zip(keys, usage, strict=True)), "of_record": record[0], "reported": record[1]}


_T = TypeVar("_T")


def _median(runs: list[_T], wall: Callable[[_T], float]) -> _T:
    return sorted(runs, key=wall)[len(runs) // 2]


def main() -> None:
    sessions = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    turns = int(sys.argv[2]) if len(sys.argv) > 2 else 1400
    rounds = max(1, int(sys.argv[3])) if len(sys.argv) > 3 else 3
    # Bytecode as an installed switchboard has it: with PYTHONDONTWRITEBYTECODE set (as on this machine) a module
    # changed since its .pyc was written is compiled again by every run, the parsing worker's too (~25 ms).
    compileall.compile_dir(REPO / "server", quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        config = Path(tmp) / "claude"
        root = config / "projects"
        write_projects(root, sessions, turns)
        files = list(root.rglob("*.jsonl"))
        size = sum(p.stat().st_size for p in files)
        responses = len(usage_lines(root))
        listed, tokens = list_price(root)
        os.sync()
        ccusages: list[tuple[Run, dict[str, Any]] | None] = []
        firsts: list[Run] = []
        state = Path(tmp) / "state-0"
        for round_ in range(rounds):
            ccusages.append(_ccusage(config))
            state = Path(tmp) / f"state-{round_}"
            firsts.append(_switchboard(root, state))
        ccusage = None if None in ccusages else _median([c for c in ccusages if c is not None], lambda c: c[0].wall)
        first = _median(firsts, lambda run: run.wall)
        second = _switchboard(root, state)
        own = _in_process(root, state)
        (Path(tmp) / "empty").mkdir()
        floor = _switchboard(Path(tmp) / "empty", state)  # the process's start-up: the floor of any run
        stored = _stored(state)
        shutil.rmtree(root)
    mb = size / 1e6
    print(f"folder: {sessions:,} sessions, {len(files):,} transcripts, {mb:,.0f} MB, {responses:,} responses")
    print(f"first import, each round: {', '.join(f'{run.wall:.2f}' for run in firsts)} s; ccusage: ", end="")
    print(", ".join(f"{c[0].wall:.2f}" for c in ccusages if c is not None) + f" s (median of {rounds} rows below)")
    print(f"{'':34}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}{'responses/s':>13}")
    rows = [("switchboard import, first", first), ("switchboard import, nothing new", second)]
    rows.append(("switchboard import, empty folder", floor))
    if ccusage is not None:
        rows.append(("ccusage daily --json --offline", ccusage[0]))
    for name, run in rows:
        print(f"{name:34}{run.wall:9.2f}{run.cpu:9.2f}{run.rss_mb:13.0f}{responses / run.wall:13,.0f}")
    print(f"second import / first: {second.wall / first.wall:.1%} wall, {second.cpu / first.cpu:.1%} CPU; ", end="")
    print(f"its own work (in-process, after start-up) {own:.3f} s")
    totals = None
    if ccusage is not None:
        run, totals = ccusage
        print(f"first import / ccusage: {first.wall / run.wall:.2f}x wall, {first.cpu / run.cpu:.2f}x CPU")
    else:
        print(f"ccusage: not installed at {CCUSAGE} (cd bench && npm install)")
    print(f"\n{'tokens':16}{'switchboard':>16}{'ccusage':>16}{'from the files':>16}")
    pairs = [("input", "inputTokens"), ("output", "outputTokens"), ("cache_read", "cacheReadTokens")]
    pairs += [("cache_write", "cacheCreationTokens")]
    for ours, theirs in pairs:
        peer = f"{totals[theirs]:16,}" if totals else f"{'-':>16}"
        print(f"{ours:16}{int(stored[ours]):16,}{peer}{tokens[ours]:16,}")
    print(f"{'cache_write_1h':16}{int(stored['cache_write_1h']):16,}{'-':>16}{tokens['cache_write_1h']:16,}")
    print("\ncost, USD")
    print(f"  switchboard per response (estimated)  {stored['cost']:14,.2f}   unpriced lines: {stored['unpriced']}")
    print(f"  switchboard sessions' cost of record  {stored['of_record']:14,.2f}   reported by Claude Code: ", end="")
    print(f"{stored['reported']} sessions")
    if totals:
        print(f"  ccusage daily                         {totals['totalCost']:14,.2f}")
    print(f"  list prices, recomputed from files    {listed:14,.2f}   switchboard vs list: ", end="")
    print(f"{(stored['cost'] - listed) / listed:+.4%}")


if __name__ == "__main__":
    main()
