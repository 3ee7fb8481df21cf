"""What the capture hooks cost a real Claude Code session, next to no hooks and to a bare Python hook.

Runs the real Claude Code CLI (tests/node_modules) offline against the fake Anthropic API, a scripted
session of about ten hook events (prompt, two Bash calls, answer), in four set-ups interleaved
repetition by repetition:

- ``none``: no hooks;
- ``true``: ``/bin/true`` on every event (the floor: what running any command hook costs);
- ``capture``: hooks/capture.sh on every event ``switchboard install`` registers;
- ``python``: ``python3 -S -c pass`` on the same events (the cheapest possible Python hook).

Each hook's own time comes from Claude Code's debug log (``Hooks: ... finished with status 0 (N ms)``).
Prints the p50 hook time per set-up, the median wall time per set-up, and the ratio of the capture
hooks' extra wall time to the Python hooks' (targets: p50 <= 10 ms, ratio <= 0.25).

Usage: .venv/bin/python bench/bench_hooks.py [--reps N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server.install import hook_entries, hooks_dir  # noqa: E402
from tests.e2e.claude import CLAUDE, claude_env, hook_timings_ms, run_claude  # noqa: E402
from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, serve_anthropic  # noqa: E402

SESSION = Conversation(
    "BENCH",
    [
        Turn(text="one", tool_uses=(ToolUse("Bash", {"command": "true", "description": "first"}),)),
        Turn(tool_uses=(ToolUse("Bash", {"command": "true", "description": "second"}),)),
        Turn(text="done."),
    ],
)
TARGET_P50_MS = 10.0
TARGET_RATIO = 0.25


def setups() -> dict[str, dict[str, Any]]:
    """The ``--settings`` content of each set-up. SessionEnd does not start ingest here: a background
    ingest would compete for the CPU with the next repetition."""
    capture = shlex.quote(str(hooks_dir() / "capture.sh"))
    python = f"{shlex.quote(shutil.which('python3') or sys.executable)} -S -c pass"
    return {
        "none": {},
        "true": {"hooks": hook_entries(shutil.which("true") or "/bin/true", [])},
        "capture": {"hooks": hook_entries(capture, [])},
        "python": {"hooks": hook_entries(python, [])},
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(
    name: str, settings: dict[str, Any], fake: AnthropicFake, root: Path, rep: int
) -> tuple[float, float, list[int]]:
    """One session: wall seconds, CPU seconds of Claude Code and its hooks, and each hook's ms."""
    home = root / f"{name}-{rep}"
    (home / "user").mkdir(parents=True)
    (home / "proj").mkdir()
    env = claude_env(home / "user", fake, SWITCHBOARD_HOME=str(home / "state"))
    cpu_before = _children_cpu_s()
    result = run_claude("BENCH go", home / "proj", env, home / "run", allowed_tools=("Bash",), settings=settings)
    cpu = _children_cpu_s() - cpu_before
    if result.returncode != 0 or result.output.get("result") != "done.":
        raise SystemExit(f"{name}: claude failed ({result.returncode}): {result.stderr[-2000:]}")
    timings = hook_timings_ms(result.debug_log)
    if any(status != 0 for _, _, status, _ in timings):
        raise SystemExit(f"{name}: a hook failed: {timings}")
    shutil.rmtree(home, ignore_errors=True)
    return result.wall_s, cpu, [ms for _, _, _, ms in timings]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=7, help="repetitions of each set-up (default 7)")
    args = parser.parse_args()
    if not CLAUDE.is_file():
        raise SystemExit(f"no Claude Code at {CLAUDE}: run (cd tests && npm ci)")
    configs = setups()
    walls: dict[str, list[float]] = {name: [] for name in configs}
    cpus: dict[str, list[float]] = {name: [] for name in configs}
    hook_ms: dict[str, list[int]] = {name: [] for name in configs}
    events: dict[str, list[int]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory(prefix="bench-hooks-") as tmp, serve_anthropic(AnthropicFake([SESSION])) as fake:
        run_once("warmup", {}, fake, Path(tmp), 0)
        names = list(configs)
        for rep in range(args.reps):
            order = names[rep % len(names) :] + names[: rep % len(names)]  # rotate: no set-up always goes first
            for name in order:
                wall, cpu, timings = run_once(name, configs[name], fake, Path(tmp), rep)
                walls[name].append(wall)
                cpus[name].append(cpu)
                hook_ms[name].extend(timings)
                events[name].append(len(timings))
    report(walls, cpus, hook_ms, events, args.reps)
    return 0


def report(
    walls: dict[str, list[float]],
    cpus: dict[str, list[float]],
    hook_ms: dict[str, list[int]],
    events: dict[str, list[int]],
    reps: int,
) -> None:
    wall = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} CPUs (wall times stretch under load)")
    print(f"Claude Code {CLAUDE.parent.name}, scripted session, {reps} interleaved repetitions, medians\n")
    header = f"{'set-up':<8} {'hooks/run':>9} {'p50 hook ms':>12} {'p90 hook ms':>12} {'wall s':>8} {'extra s':>8}"
    print(f"{header} {'cpu s':>7} {'extra cpu s':>12}")
    for name in walls:
        ms = sorted(hook_ms[name])
        p50 = f"{statistics.median(ms):.1f}" if ms else "-"
        p90 = f"{ms[int(0.9 * (len(ms) - 1))]:.1f}" if ms else "-"
        per_run = statistics.median(events[name])
        extra = wall[name] - wall["none"]
        extra_cpu = cpu[name] - cpu["none"]
        row = f"{name:<8} {per_run:>9.0f} {p50:>12} {p90:>12} {wall[name]:>8.3f} {extra:>+8.3f}"
        print(f"{row} {cpu[name]:>7.3f} {extra_cpu:>+12.3f}")
    capture_p50 = statistics.median(hook_ms["capture"])
    python_p50 = statistics.median(hook_ms["python"])
    extra_capture = wall["capture"] - wall["none"]
    extra_python = wall["python"] - wall["none"]
    ratio = extra_capture / extra_python if extra_python > 0 else float("nan")
    print()
    print(
        f"p50 capture hook: {capture_p50:.1f} ms (target <= {TARGET_P50_MS:.0f} ms), python hook: {python_p50:.1f} ms"
    )
    print(f"hook time ratio capture/python: {capture_p50 / python_p50:.2f}")
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"extra wall time ratio capture/python: {ratio:.2f} ({verdict} target <= {TARGET_RATIO})")
    cpu_ratio = (cpu["capture"] - cpu["none"]) / (cpu["python"] - cpu["none"]) if cpu["python"] > cpu["none"] else 0
    print(f"extra CPU time ratio capture/python: {cpu_ratio:.2f} (less sensitive to other load than wall time)")
    over_true = (
        (wall["capture"] - wall["true"]) / (wall["python"] - wall["true"]) if wall["python"] > wall["true"] else 0
    )
    print(f"same ratio over the 'true' floor (what the script itself adds): {over_true:.2f}")


if __name__ == "__main__":
    sys.exit(main())
