"""What the launcher's own reading of the config costs each session start, beside the launcher's own start.

Runs ``python3 -I -S`` as Claude Code does, 15 times each: loading the launcher alone, then loading it and
deciding the key variables (``server/trust.py`` by path, then tomllib) with a config in force and with none.
Prints the medians side by side.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parents[1] / "hooks" / "launcher.py"
RUNS = 15
CODE = """
import os, sys, time
started = time.perf_counter()
namespace = {"__name__": "launcher", "__file__": %(path)r}
exec(compile(open(%(path)r).read(), %(path)r, "exec"), namespace)
loaded = time.perf_counter()
if %(keys)r:
    namespace["key_variables_for"](os.environ)
print((loaded - started) * 1000, (time.perf_counter() - loaded) * 1000)
"""


def _median(keys: bool, env: dict[str, str], cwd: str) -> tuple[float, float]:
    loads: list[float] = []
    extra: list[float] = []
    for _ in range(RUNS):
        code = CODE % {"path": str(LAUNCHER), "keys": keys}
        out = subprocess.run(
            [sys.executable, "-I", "-S", "-c", code], env=env, cwd=cwd, capture_output=True, text=True, check=True
        )
        load, more = map(float, out.stdout.split())
        loads.append(load)
        extra.append(more)
    return statistics.median(loads), statistics.median(extra)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text('[providers.acme]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "ACME_KEY"\n')
        base = {"PATH": "/usr/bin:/bin", "HOME": tmp, "XDG_CONFIG_HOME": str(Path(tmp) / "none")}
        load, _ = _median(False, base, tmp)
        _, none = _median(True, base, tmp)
        _, with_config = _median(True, {**base, "SWITCHBOARD_CONFIG": str(config)}, tmp)
    print(f"launcher module load: {load:.1f} ms (median of {RUNS})")
    print(f"key variables, no config:  +{none:.1f} ms ({none / load:.0%} of the load)")
    print(f"key variables, one config: +{with_config:.1f} ms ({with_config / load:.0%} of the load; tomllib)")


if __name__ == "__main__":
    main()
