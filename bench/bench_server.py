"""Start-up, first tool calls, memory and exit of ``switchboard serve`` over stdio, beside bare Python baselines.

Each run spawns the server and speaks to it as Claude Code does (``initialize``, then
``notifications/initialized``), timing the answer to ``initialize``. Then, in one of two scenarios:

- idle: wait ``--idle`` seconds (the background warm-up, store opening and first ingest settle), read the
  resident memory (VmRSS), call ``stats``, ``delegate`` twice (against a zero-latency fake OpenAI API on
  loopback), close stdin and time the exit;
- eager: call ``stats`` and ``delegate`` at once after the handshake (the warm-up is still running), then send
  SIGINT and time the exit.

Baselines: ``python -c pass``, ``python -c "import mcp.server.mcpserver"`` (the SDK alone, the floor for the
answer to ``initialize``) and ``python -c "import openai"`` (what the first ``delegate`` to an OpenAI-compatible
provider pays on top, since provider SDKs load on first use).

Run: .venv/bin/python bench/bench_server.py [--runs 5] [--src DIR]
(``--src`` runs ``python -m server serve`` from another checkout, e.g. an older commit, for a before/after.)
Targets: initialize answered <= 1 s; idle resident memory <= 120 MB; exit well within 100 ms of SIGINT.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.openai_api import FakeOpenAI

PYTHON = sys.executable
SWITCHBOARD = str(Path(PYTHON).with_name("switchboard"))
EXIT_WAIT_S = 5.0
"""An exit not seen by then is reported as inf (the process is killed)."""
HANDSHAKE = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Served:
    """A ``switchboard serve`` process and a minimal JSON-RPC client over its stdio."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=env.get("PYTHONPATH"),  # python -m puts the working directory first on the path
        )
        self._next_id = 0

    def send(self, method: str, params: dict[str, Any] | None = None, *, notify: bool = False) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if not notify:
            self._next_id += 1
            message["id"] = self._next_id
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.send(method, params)
        assert self.process.stdout is not None
        answer = json.loads(self.process.stdout.readline())
        assert answer.get("id") == self._next_id and "result" in answer, answer
        return answer["result"]

    def timed_call(self, tool: str, arguments: dict[str, Any]) -> float:
        started = time.perf_counter()
        result = self.request("tools/call", {"name": tool, "arguments": arguments})
        assert not result.get("isError"), result
        return time.perf_counter() - started

    def timed_exit(self, how: str) -> float:
        started = time.perf_counter()
        if how == "eof":
            assert self.process.stdin is not None
            self.process.stdin.close()
        else:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=EXIT_WAIT_S)
            elapsed = time.perf_counter() - started
        except subprocess.TimeoutExpired:
            self.process.kill()  # what Claude Code's SIGTERM ends up doing
            self.process.wait()
            elapsed = math.inf
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        return elapsed


def handshake(served: Served) -> float:
    served.request("initialize", HANDSHAKE)
    elapsed = time.perf_counter() - served.started
    served.send("notifications/initialized", notify=True)
    return elapsed


def idle_run(command: list[str], env: dict[str, str], idle_s: float) -> dict[str, float]:
    served = Served(command, env)
    figures = {"initialize": handshake(served)}
    time.sleep(idle_s)  # a benchmark's idle period, not synchronisation
    figures["rss"] = rss_mb(served.process.pid)
    figures["stats, first call"] = served.timed_call("stats", {})
    figures["delegate, first call"] = served.timed_call("delegate", {"task": "ping"})
    figures["delegate, second call"] = served.timed_call("delegate", {"task": "ping"})
    figures["exit after stdin closes"] = served.timed_exit("eof")
    return figures


def eager_run(command: list[str], env: dict[str, str]) -> dict[str, float]:
    served = Served(command, env)
    figures = {"initialize": handshake(served)}
    figures["stats, right after the handshake"] = served.timed_call("stats", {})
    figures["delegate, right after the handshake"] = served.timed_call("delegate", {"task": "ping"})
    figures["exit after SIGINT"] = served.timed_exit("sigint")
    return figures


# Peak memory, then exit without the interpreter's teardown (~0.1 s once the SDK is loaded): the server's figure
# stops at its answer, so the baselines stop once the imports are done.
_REPORT_AND_EXIT = (
    "import os, resource, sys; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.stdout.flush(); "
    "os._exit(0)"
)


def baseline(code: str) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "-c", f"{code}\n{_REPORT_AND_EXIT}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {"time": time.perf_counter() - started, "rss": int(done.stdout.split()[-1]) / 1024}


def row(name: str, values: list[float], memory: float | None = None) -> str:
    rss = f"{memory:9.1f}" if memory is not None else " " * 9
    return f"{name:46}{statistics.median(values):10.3f}{max(values):8.3f}{rss}"


def main(runs: int, idle_s: float, src: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(models=["model-a"]) as fake:
        config = Path(tmp) / "config.toml"
        config.write_text(
            f'[providers.acme]\nbase_url = "{fake.base_url}"\napi_key_env = "ACME_KEY"\nmodels = ["model-a"]\n'
        )
        env = {**os.environ, "SWITCHBOARD_HOME": tmp, "SWITCHBOARD_CONFIG": str(config), "ACME_KEY": "sk-bench"}
        env.pop("SWITCHBOARD_DATABASE_URL", None)
        command = [SWITCHBOARD, "serve"]
        if src is not None:
            env["PYTHONPATH"] = src
            command = [PYTHON, "-m", "server", "serve"]
        idle_run(command, env, 0.5)  # creates and migrates the SQLite file, as a first run on a machine would
        idle: list[dict[str, float]] = []
        eager: list[dict[str, float]] = []
        bare: list[dict[str, float]] = []
        sdk: list[dict[str, float]] = []
        openai: list[dict[str, float]] = []
        for _ in range(runs):  # interleaved, so that the shared machine's load weighs on every row alike
            idle.append(idle_run(command, env, idle_s))
            sdk.append(baseline("import mcp.server.mcpserver"))
            eager.append(eager_run(command, env))
            bare.append(baseline("pass"))
            openai.append(baseline("import openai"))
    print(f"runs: {runs} of each; load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'':46}{'median s':>10}{'max s':>8}{'RSS MB':>9}")
    print(row("python -c pass", [b["time"] for b in bare], statistics.median(b["rss"] for b in bare)))
    print(
        row(
            "python -c 'import mcp.server.mcpserver'",
            [b["time"] for b in sdk],
            statistics.median(b["rss"] for b in sdk),
        )
    )
    print(row("python -c 'import openai'", [b["time"] for b in openai]))
    served = [f["initialize"] for f in idle + eager]
    print(row("switchboard serve: initialize answered", served))
    print(f"after {idle_s:g} s idle:")
    for name in ("stats, first call", "delegate, first call", "delegate, second call", "exit after stdin closes"):
        print(row(f"  {name}", [f[name] for f in idle]))
    print("at once after the handshake:")
    for name in ("stats, right after the handshake", "delegate, right after the handshake", "exit after SIGINT"):
        print(row(f"  {name}", [f[name] for f in eager]))
    init = statistics.median(served)
    memory = statistics.median(f["rss"] for f in idle)
    sdk_time = statistics.median(b["time"] for b in sdk)
    print(
        f"initialize {init:.3f} s (target <= 1 s: {'OK' if init <= 1 else 'OVER'}); "
        f"{init / sdk_time:.2f}x the time to import the MCP SDK alone"
    )
    print(f"idle RSS after {idle_s:g} s {memory:.1f} MB (target <= 120 MB: {'OK' if memory <= 120 else 'OVER'})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=2.0, help="seconds to idle before reading memory")
    parser.add_argument("--src", help="run `python -m server serve` with this checkout first on PYTHONPATH")
    args = parser.parse_args()
    main(args.runs, args.idle, args.src)
