"""Redaction cost per MB on realistic tool output and on pathological text, side by side.

Usage: .venv/bin/python bench/bench_redact.py [MB]   (realistic sample size, default 2)

Realistic: what a session's tool responses look like (source files as Read returns them, pytest and git
output, env dumps with a few secrets), redacted as ingest does (``redact`` over the decoded payload).
Pathological: text built to make a backtracking pattern retry at every offset ("api key list: 1.1.1...",
long runs of each pattern's own alphabet). Linear patterns keep both within a small factor of each other.
When ``detect-secrets`` is importable (it is not a dependency), its default rule set is timed on the same
realistic text for comparison.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server.redact import redact, redact_text  # noqa: E402

PATHOLOGICAL = {
    "api key list: 1.1.1...": "api key list: " + "1." * 20000,
    "token:token:...": "token:" * 7000,
    "eyJ runs": "eyJ" * 14000,
    "://a:b runs": "://a:b" * 7000,
    "-----BEGIN x no END": "-----BEGIN " * 4000,
    "whitespace after a name": "password" + " " * 40000,
}


def realistic_text(megabytes: float) -> str:
    """Source files, pytest and git output, an env dump: the bulk of PostToolUse tool_response text."""
    parts: list[str] = []
    for path in sorted(REPO.glob("server/**/*.py")):
        parts.append(f"     1\t{path.read_text(encoding='utf-8')}")
    parts.append("tests/server/store/test_ingest.py::test_every_event PASSED\n" * 200)
    parts.append("commit 7a66246\nAuthor: dev <dev@example.com>\n\n    store: one writer\n\n" * 100)
    parts.append("PATH=/usr/bin\nHOME=/root\nOPENAI_API_KEY=sk-proj-AbCd1234AbCd1234AbCd1234\nLANG=C.UTF-8\n" * 20)
    unit = "".join(parts)
    size = int(megabytes * 1024 * 1024)
    return (unit * (size // len(unit) + 1))[:size]


def as_payloads(text: str, chunk: int = 20_000) -> list[dict[str, Any]]:
    """The text cut into PostToolUse payloads of ~20 KB, as ingest sees them."""
    return [
        {"hook_event_name": "PostToolUse", "tool_name": "Read", "tool_response": {"stdout": text[i : i + chunk]}}
        for i in range(0, len(text), chunk)
    ]


def seconds_per_mb(work: Callable[[], object], size_bytes: int) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) / (size_bytes / 1e6)


def detect_secrets_s_per_mb(text: str) -> float | None:
    try:
        from detect_secrets.core.scan import scan_line  # pyright: ignore[reportMissingImports]
        from detect_secrets.settings import default_settings  # pyright: ignore[reportMissingImports]
    except ImportError:
        return None
    sample = text[: 200 * 1024]  # it is slow: a slice is enough for a rate
    with default_settings():
        return seconds_per_mb(lambda: [list(scan_line(line)) for line in sample.splitlines()], len(sample.encode()))


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    text = realistic_text(megabytes)
    payloads = as_payloads(text)
    realistic = seconds_per_mb(lambda: [redact(p) for p in payloads], len(text.encode()))
    print(f"redact realistic tool output ({megabytes:g} MB as 20 KB payloads): {realistic * 1000:.1f} ms/MB")
    worst = 0.0
    for label, sample in PATHOLOGICAL.items():
        cost = seconds_per_mb(lambda s=sample: redact_text(s), len(sample.encode()))
        worst = max(worst, cost)
        print(f"redact pathological '{label}' ({len(sample) // 1024} KB): {cost * 1000:.1f} ms/MB")
    print(
        f"redact: worst pathological = {worst / realistic:.1f}x realistic per MB"
        " (before the linear rules: 87 s for 40 KB = ~2,200,000 ms/MB)"
    )
    ds = detect_secrets_s_per_mb(text)
    if ds is None:
        print("detect-secrets: not installed (pip install detect-secrets to compare its default rule set)")
    else:
        print(f"detect-secrets default rules, line by line: {ds * 1000:.0f} ms/MB = {ds / realistic:.0f}x redact")


if __name__ == "__main__":
    main()
