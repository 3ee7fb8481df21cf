"""Start-up and memory of ``switchboard serve`` over stdio, measured against bare Python baselines in one run.

For each run: spawn the server, send ``initialize``, time the answer; then let it idle and read its resident
memory (VmRSS). Baselines: ``python -c pass`` and ``python -c "import mcp.server.mcpserver"`` (the SDK alone).

Run: .venv/bin/python bench/bench_server.py [--runs 5]
Targets: initialize answered <= 1 s; idle resident memory <= 120 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable
SWITCHBOARD = str(Path(PYTHON).with_name("switchboard"))
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def one_server_run(env: dict[str, str], idle_s: float) -> tuple[float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [SWITCHBOARD, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write((json.dumps(INITIALIZE) + "\n").encode())
    process.stdin.flush()
    answer = json.loads(process.stdout.readline())
    elapsed = time.perf_counter() - started
    assert answer.get("id") == 1 and "result" in answer, answer
    # Idle: the background store opening and first ingest settle, nothing else happens.
    time.sleep(idle_s)
    memory = rss_mb(process.pid)
    process.stdin.close()
    process.wait(timeout=10)
    return elapsed, memory


def baseline(code: str) -> tuple[float, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "-c", f"{code}\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, int(done.stdout.split()[-1]) / 1024


def main(runs: int, idle_s: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text('[providers.acme]\nbase_url = "http://127.0.0.1:9/v1"\nmodels = ["model-a"]\n')
        env = {**os.environ, "SWITCHBOARD_HOME": tmp, "SWITCHBOARD_CONFIG": str(config)}
        env.pop("SWITCHBOARD_DATABASE_URL", None)
        one_server_run(env, 0.1)  # creates and migrates the SQLite file, as a first run on a machine would
        served = [one_server_run(env, idle_s) for _ in range(runs)]
        bare = [baseline("pass") for _ in range(runs)]
        sdk = [baseline("import mcp.server.mcpserver") for _ in range(runs)]
    print(f"runs: {runs}; load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'':44}{'median s':>10}{'max s':>8}{'RSS MB':>9}")
    rows = [
        ("python -c pass", bare),
        ("python -c 'import mcp.server.mcpserver'", sdk),
        ("switchboard serve: initialize answered", served),
    ]
    for name, values in rows:
        times = [t for t, _m in values]
        memory = statistics.median(m for _t, m in values)
        print(f"{name:44}{statistics.median(times):10.3f}{max(times):8.3f}{memory:9.1f}")
    init = statistics.median(t for t, _m in served)
    memory = statistics.median(m for _t, m in served)
    sdk_time = statistics.median(t for t, _m in sdk)
    print(
        f"initialize {init:.3f} s (target <= 1 s: {'OK' if init <= 1 else 'OVER'}); "
        f"{init / sdk_time:.2f}x the time to import the MCP SDK alone"
    )
    print(f"idle RSS after {idle_s:g} s {memory:.1f} MB (target <= 120 MB: {'OK' if memory <= 120 else 'OVER'})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=2.0, help="seconds to idle before reading memory")
    args = parser.parse_args()
    main(args.runs, args.idle)
