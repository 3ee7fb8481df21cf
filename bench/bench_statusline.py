"""What the status line costs as Claude Code runs it, next to the cheapest Python command (the floor).

Claude Code 2.1.328 runs ``statusLine`` through the same command runner as its hooks, but its debug log has no
per-run time for the status line (one ``StatusLine [...] completed with status 0`` line, no ms). So the same
command is registered as a hook on every event ``switchboard install`` captures, in a scripted ``claude -p``
session offline against the fake Anthropic API, and each run's time is read from the debug log
(``Hooks: ... finished with status 0 (N ms)``), as bench/bench_hooks.py does. Set-ups, interleaved:

- ``runner``: ``true`` (a shell builtin: what Claude Code's command runner costs for any command at all);
- ``floor``: ``python3 -I -S -c pass``;
- ``service up``: ``python3 -I -S hooks/statusline.py`` with a running service and its summary file;
- ``service down``: the same with no service (the line says so).

Prints the p50 and p90 per set-up and the status line's p50 over the python floor's and over the runner's (target:
p50 <= 50 ms).

Usage: .venv/bin/python bench/bench_statusline.py [--reps N]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server.install import hook_entries, hooks_dir  # noqa: E402
from server.install.plan import python3  # noqa: E402
from tests.e2e.claude import CLAUDE, SWITCHBOARD, claude_env, hook_timings_ms, run_claude  # noqa: E402
from tests.fakes.anthropic_api import AnthropicFake, Conversation, ToolUse, Turn, serve_anthropic  # noqa: E402

SESSION = Conversation(
    "BENCH",
    [
        Turn(text="one", tool_uses=(ToolUse("Bash", {"command": "true", "description": "first"}),)),
        Turn(tool_uses=(ToolUse("Bash", {"command": "true", "description": "second"}),)),
        Turn(text="done."),
    ],
)
TARGET_P50_MS = 50.0


def _python3() -> str:
    return shlex.quote(python3())  # the interpreter install --statusline registers


def setups() -> dict[str, dict[str, Any]]:
    line = f"{_python3()} -I -S {shlex.quote(str(hooks_dir() / 'statusline.py'))}"
    return {
        "runner": {"hooks": hook_entries("true", [])},
        "floor": {"hooks": hook_entries(f"{_python3()} -I -S -c pass", [])},
        "service up": {"hooks": hook_entries(line, [])},
        "service down": {"hooks": hook_entries(line, [])},
    }


def run_once(name: str, settings: dict[str, Any], fake: AnthropicFake, root: Path, state: Path, rep: int) -> list[int]:
    home = root / f"{name.replace(' ', '-')}-{rep}"
    (home / "user").mkdir(parents=True)
    (home / "proj").mkdir()
    env = claude_env(home / "user", fake, SWITCHBOARD_HOME=str(state))
    result = run_claude("BENCH go", home / "proj", env, home / "run", allowed_tools=("Bash",), settings=settings)
    if result.returncode != 0 or result.output.get("result") != "done.":
        raise SystemExit(f"{name}: claude failed ({result.returncode}): {result.stderr[-2000:]}")
    timings = hook_timings_ms(result.debug_log)
    if not timings or any(status != 0 for _, _, status, _ in timings):
        raise SystemExit(f"{name}: a command failed or none ran: {timings}")
    shutil.rmtree(home, ignore_errors=True)
    return [ms for _, _, _, ms in timings]


def _service(action: str, state: Path) -> None:
    env = {**os.environ, "SWITCHBOARD_HOME": str(state), "SWITCHBOARD_SERVICE_PORT": "0"}
    subprocess.run([str(SWITCHBOARD), "service", action], env=env, capture_output=True, timeout=60, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each set-up (default 5)")
    args = parser.parse_args()
    if not CLAUDE.is_file():
        raise SystemExit(f"no Claude Code at {CLAUDE}: run (cd tests && npm ci)")
    configs = setups()
    timings: dict[str, list[int]] = {name: [] for name in configs}
    with (
        tempfile.TemporaryDirectory(prefix="bench-statusline-") as tmp,
        serve_anthropic(AnthropicFake([SESSION])) as fake,
    ):
        up, down = Path(tmp) / "up", Path(tmp) / "down"
        up.mkdir()
        down.mkdir()
        _service("start", up)
        try:
            deadline = time.monotonic() + 60
            while not (up / "service" / "statusline.json").exists() and time.monotonic() < deadline:
                time.sleep(0.1)  # bounded: the service writes its summary once warm
            run_once("warmup", configs["floor"], fake, Path(tmp), down, 0)
            names = list(configs)
            for rep in range(args.reps):
                for name in names[rep % len(names) :] + names[: rep % len(names)]:
                    state = up if name == "service up" else down
                    timings[name] += run_once(name, configs[name], fake, Path(tmp), state, rep)
        finally:
            _service("stop", up)
    report(timings, args.reps)
    return 0


def report(timings: dict[str, list[int]], reps: int) -> None:
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (times stretch under load)")
    print(f"Claude Code {CLAUDE.parent.name}, {reps} interleaved sessions per set-up, ms per run from its debug log\n")
    print(f"{'set-up':<13} {'runs':>5} {'p50 ms':>7} {'p90 ms':>7}")
    for name, values in timings.items():
        ms = sorted(values)
        print(f"{name:<13} {len(ms):>5} {statistics.median(ms):>7.1f} {ms[int(0.9 * (len(ms) - 1))]:>7.1f}")
    floor, runner = statistics.median(timings["floor"]), statistics.median(timings["runner"])
    for name in ("service up", "service down"):
        p50 = statistics.median(timings[name])
        verdict = "meets" if p50 <= TARGET_P50_MS else "misses"
        print(f"\nstatus line, {name}: p50 {p50:.1f} ms ({verdict} target <= {TARGET_P50_MS:.0f} ms), ", end="")
        print(f"{p50 - floor:+.1f} ms over the python3 -I -S -c pass floor ({floor:.1f} ms), ", end="")
        print(f"{p50 - runner:+.1f} ms over Claude Code's runner running `true` ({runner:.1f} ms)")


if __name__ == "__main__":
    sys.exit(main())
