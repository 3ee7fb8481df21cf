"""What switchboard adds to a real headless Claude Code session: the warm service vs a ``serve`` per session.

Runs the real Claude Code CLI (tests/node_modules) offline against the fake Anthropic API, a one-turn session,
in three set-ups interleaved repetition by repetition, after one warm-up session each:

- ``none``: nothing of switchboard;
- ``serve``: ``switchboard install --project`` (hooks) with today's MCP command, ``switchboard serve``;
- ``service``: ``switchboard install --project`` (hooks, the launcher as the MCP command) plus Claude Code's
  telemetry exported to the service (``install --user --otel``'s env block).

Prints, each beside its baseline:
1. the median wall time each set-up adds over ``none`` (target for ``service``: <= 0.25 s);
2. the p50 of Claude Code's debug-log "MCP server "switchboard": Successfully connected ... in N ms" (<= 150 ms);
3. a session right after ``kill -9`` of the service: it succeeds, and its connect time;
4. memory: the service plus five launchers, all with an initialized MCP session open at once, against two
   per-session ``serve`` processes (RSS from /proc; target: less).

Usage: .venv/bin/python bench/bench_service.py [--reps N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server.commands.service import query_status  # noqa: E402
from server.install import Target, install, switchboard_command  # noqa: E402
from server.service.instance import is_running, read_state  # noqa: E402
from server.service.otel_settings import otel_env, otlp_secret  # noqa: E402
from tests.e2e.claude import CLAUDE, claude_env, run_claude  # noqa: E402
from tests.fakes.anthropic_api import AnthropicFake, Conversation, Turn, serve_anthropic  # noqa: E402
from tests.server.service.launch import LAUNCHER_ARGV, Session  # noqa: E402

SESSION = Conversation("BENCH", [Turn(text="done.")])
CONNECTED = re.compile(r'MCP server "switchboard": Successfully connected \(transport: stdio\) in (\d+)ms')
TARGET_ADDED_S = 0.25
TARGET_CONNECT_MS = 150
SETUPS = ("none", "serve", "service")


def _project(root: Path, setup: str) -> Path:
    project = root / f"proj-{setup}"
    project.mkdir()
    return project


def _user(root: Path, setup: str, port: int, project: Path, home: Path) -> Path:
    """A fresh Claude Code user; ``install --project`` (local scope) registers in its own ``~/.claude.json``."""
    user = root / f"user-{setup}"
    (user / ".claude").mkdir(parents=True)
    if setup == "none":
        return user
    # Install's records live apart per set-up: it keeps one registration per project and SWITCHBOARD_HOME.
    install(Target.project(project, home=user), home=project.parent / f"records-{setup}")
    if setup == "serve":
        state_file = user / ".claude.json"
        state = json.loads(state_file.read_text())
        command = switchboard_command()
        entry = state["projects"][str(project.resolve())]["mcpServers"]["switchboard"]
        entry |= {"command": command[0], "args": [*command[1:], "serve"]}
        state_file.write_text(json.dumps(state))
    else:
        (user / ".claude" / "settings.json").write_text(json.dumps({"env": otel_env(port, otlp_secret(home))}))
    return user


def run_once(setup: str, root: Path, fake: AnthropicFake, home: Path, port: int, rep: str) -> tuple[float, int | None]:
    project = root / f"proj-{setup}"
    env = claude_env(_user(root / rep, setup, port, project, home), fake, SWITCHBOARD_HOME=str(home))
    if setup == "service":
        env.pop("DISABLE_TELEMETRY")
    result = run_claude("BENCH go", project, env, root / rep / f"run-{setup}", allowed_tools=())
    if result.returncode != 0 or result.output.get("result") != "done.":
        raise SystemExit(f"{setup}: claude failed ({result.returncode}): {result.stderr[-2000:]}")
    found = CONNECTED.search(result.debug_log.read_text(errors="replace"))
    return result.wall_s, int(found[1]) if found else None


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _initialize_and_warm(process: subprocess.Popen[bytes]) -> None:
    """Initialize, then call ``providers``: it answers once the server has imported what its tools use."""
    assert process.stdin is not None and process.stdout is not None
    init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "providers", "arguments": {}}},
    ]
    process.stdin.write("".join(json.dumps(m) + "\n" for m in messages).encode())
    process.stdin.flush()
    while json.loads(process.stdout.readline()).get("id") != 2:
        pass


def initialize_ms(argv: list[str], env: dict[str, str]) -> float:
    """Milliseconds from starting ``argv`` to its answer to ``initialize`` (our part of Claude Code's connect)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert process.stdin is not None and process.stdout is not None
    init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}
    process.stdin.write(
        (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}) + "\n").encode()
    )
    process.stdin.flush()
    process.stdout.readline()
    elapsed = (time.perf_counter() - started) * 1000
    process.stdin.close()
    process.wait(timeout=30)
    process.stdout.close()
    return elapsed


def memory(home: Path) -> tuple[int, int]:
    """(service + five launchers with a session each, two ``serve`` processes with a session each), in KB."""
    env = {**os.environ, "SWITCHBOARD_HOME": str(home)}
    sessions = [Session(env) for _ in range(5)]
    try:
        for opened in sessions:
            opened.initialize()
            opened.call("providers")
        state = read_state(home) or {}
        ours = _rss_kb(int(state["pid"])) + sum(_rss_kb(s.process.pid) for s in sessions)
    finally:
        for opened in sessions:
            opened.close()
    serves = [
        subprocess.Popen([*switchboard_command(), "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    try:
        for process in serves:
            _initialize_and_warm(process)
        baseline = sum(_rss_kb(p.pid) for p in serves)
    finally:
        for process in serves:
            process.kill()
            process.wait()
    return ours, baseline


def _median(values: list[Any]) -> float:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each set-up (default 5)")
    args = parser.parse_args()
    if not CLAUDE.is_file():
        raise SystemExit(f"no Claude Code at {CLAUDE}: run (cd tests && npm ci)")
    walls: dict[str, list[float]] = {name: [] for name in SETUPS}
    connects: dict[str, list[int | None]] = {name: [] for name in SETUPS}
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp, serve_anthropic(AnthropicFake([SESSION])) as fake:
        root = Path(tmp)
        home = root / "state"
        os.environ["SWITCHBOARD_HOME"] = str(home)
        subprocess.run([*switchboard_command(), "service", "start", "--port", "0", "--idle", "600"], check=True)
        port = int(query_status(home)["port"])
        for setup in SETUPS:
            _project(root, setup)
            run_once(setup, root, fake, home, port, f"warmup-{setup}")
        for rep in range(args.reps):
            order = SETUPS[rep % 3 :] + SETUPS[: rep % 3]
            for setup in order:
                wall, connect = run_once(setup, root, fake, home, port, f"rep{rep}")
                walls[setup].append(wall)
                connects[setup].append(connect)
        killed = int((read_state(home) or {})["pid"])
        os.kill(killed, signal.SIGKILL)
        while is_running(home):
            time.sleep(0.01)
        after_kill, connect_after_kill = run_once("service", root, fake, home, port, "after-kill")
        env = {**os.environ, "SWITCHBOARD_HOME": str(home)}
        launcher_ms = [initialize_ms(LAUNCHER_ARGV, env) for _ in range(args.reps)]
        serve_ms = [initialize_ms([*switchboard_command(), "serve", "--no-ingest"], env) for _ in range(args.reps)]
        ours, baseline = memory(home)
        pid = (read_state(home) or {}).get("pid")
        if pid:
            os.kill(int(pid), signal.SIGTERM)
        shutil.rmtree(root, ignore_errors=True)
    report(walls, connects, after_kill, connect_after_kill, ours, baseline, args.reps)
    print(
        f"5. initialize answered, from process start: launcher + warm service {statistics.median(launcher_ms):.0f} ms "
        f"vs serve {statistics.median(serve_ms):.0f} ms (median of {args.reps}; the part of 2. that is ours)"
    )
    return 0


def report(
    walls: dict[str, list[float]],
    connects: dict[str, list[int | None]],
    after_kill: float,
    connect_after_kill: int | None,
    ours: int,
    baseline: int,
    reps: int,
) -> None:
    wall = {name: statistics.median(values) for name, values in walls.items()}
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times stretch under load)")
    print(f"Claude Code {CLAUDE.parent.name}, one-turn headless session, {reps} interleaved repetitions, medians\n")
    print(f"{'set-up':<8} {'wall s':>8} {'added s':>8} {'MCP connect p50 ms':>19}")
    for name in SETUPS:
        connected = [c for c in connects[name] if c is not None]
        shown = f"{_median(connected):.0f}" if connected else "never"
        if name != "none" and len(connected) < len(connects[name]):
            shown += f" ({len(connects[name]) - len(connected)} of {len(connects[name])} never connected)"
        print(f"{name:<8} {wall[name]:>8.3f} {wall[name] - wall['none']:>+8.3f} {shown:>19}")
    added = wall["service"] - wall["none"]
    connect = _median(connects["service"])
    print()
    print(
        f"1. added session time: service {added:+.3f} s vs serve {wall['serve'] - wall['none']:+.3f} s "
        f"({'meets' if added <= TARGET_ADDED_S else 'misses'} target <= {TARGET_ADDED_S} s)"
    )
    print(
        f"2. MCP connect p50: service {connect:.0f} ms vs serve {_median(connects['serve']):.0f} ms "
        f"({'meets' if connect <= TARGET_CONNECT_MS else 'misses'} target <= {TARGET_CONNECT_MS} ms)"
    )
    print(
        f"3. after kill -9 of the service: the next session succeeded in {after_kill:.3f} s "
        f"(connect {connect_after_kill} ms; a cold start) vs {wall['service']:.3f} s warm"
    )
    print(f"4. memory: service + 5 launchers {ours / 1024:.0f} MB vs 2 serve processes {baseline / 1024:.0f} MB "
          f"({'meets' if ours < baseline else 'misses'} target: less)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
