#!/usr/bin/env python3
"""Claude Code's status line: this session's cost, today's spend, delegations and their saving, alerts, context.

Run as ``python3 -I -S statusline.py`` (what ``switchboard install --statusline`` registers). Claude Code passes
the session's JSON on stdin (``session_id``, ``cost.total_cost_usd``, ``context_window.used_percentage``) and shows
the first line printed. Standard library only, importing nothing of the package, reading one small file the
service keeps current (``service/statusline.json``, :mod:`server.service.summary`): no store, no socket.

It never prints a traceback nor exits non-zero: whatever it cannot read makes the line shorter. When the service
is not running, the line says so after what Claude Code itself knows.
"""

from __future__ import annotations

import _json
import os
import sys
import time

TYPE_CHECKING = False  # importing typing costs milliseconds on every refresh
if TYPE_CHECKING:
    from typing import Any

MAX_INPUT = 1 << 20
STALE_S = 30.0
"""The service rewrites the summary at least every 20 s; older than this, the figures are shown as of their time."""
NEAR_CAP = 0.8
SEP = " · "
WHITESPACE = " \t\n\r"


class _Decoding:
    """What ``json.JSONDecoder`` hands its C scanner, with json's defaults (NaN and Infinity as floats)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.__getitem__
    memo: dict[str, str] = {}


# ``import json`` costs ~16 ms at every refresh (its decoder compiles regular expressions: ``re`` is 12 ms of it,
# measured with ``python3 -I -S -X importtime``); its C scanner alone is ~0.5 ms. Valid JSON goes through the
# scanner; anything else goes to ``json.loads`` for json's own verdict (hooks/statusline.py p50 35.2 -> 21.1 ms,
# 40 runs of ``python3 -I -S``, side by side).
_SCAN = _json.make_scanner(_Decoding())  # pyright: ignore[reportArgumentType] - typeshed types the context as the scanner


def loads(raw: bytes) -> Any:
    """``json.loads(raw)``, through json's C scanner when ``raw`` is valid UTF-8 JSON (the status line's case)."""
    try:
        text = raw.decode("utf-8").strip(WHITESPACE)
        value, end = _SCAN(text, 0)
        if end == len(text):
            return value
    except Exception:  # json.loads below gives the verdict and its error
        pass
    import json

    return json.loads(raw)


def home() -> str:
    """SWITCHBOARD_HOME, resolved as the launcher and server.settings do (a test pins the three together)."""
    for name in ("SWITCHBOARD_HOME", "CLAUDE_PLUGIN_DATA"):
        if os.environ.get(name):
            return os.environ[name]
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/switchboard")
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(data, "switchboard")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None


def _usd(amount: float) -> str:
    return f"-${-amount:.2f}" if amount < 0 else f"${amount:.2f}"


def read_input(stream: Any) -> dict[str, Any]:
    """Claude Code's JSON, or ``{}`` when it is missing, too long or not an object."""
    try:
        return _object(loads(stream.read(MAX_INPUT)))
    except (ValueError, OSError, RecursionError):
        return {}


def read_summary(home_dir: str) -> dict[str, Any]:
    try:
        with open(os.path.join(home_dir, "service", "statusline.json"), "rb") as handle:
            return _object(loads(handle.read(MAX_INPUT)))
    except (OSError, ValueError, RecursionError):
        return {}


def service_running(home_dir: str) -> bool:
    """Whether a service holds its lock (taking it for a moment, as ``server.service.instance`` does)."""
    import fcntl

    try:
        fd = os.open(os.path.join(home_dir, "service", "lock"), os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def _context(data: dict[str, Any]) -> str | None:
    window = _object(data.get("context_window"))
    used = _number(window.get("used_percentage"))
    if used is None:
        size = _number(window.get("context_window_size"))
        tokens = _number(window.get("total_input_tokens"))
        used = 100.0 * tokens / size if size and tokens is not None else None
    return f"ctx {used:.0f}%" if used is not None else None


def _alerts(summary: dict[str, Any]) -> list[str]:
    alerts: list[str] = []
    breakers = summary.get("breakers")
    if isinstance(breakers, list) and breakers:
        names = ", ".join(str(name) for name in breakers[:3])  # pyright: ignore[reportUnknownVariableType]
        alerts.append(f"breaker open: {names}")
    cap, spent = _number(summary.get("daily_cap_usd")), _number(summary.get("daily_spent_usd"))
    if cap and spent is not None and spent >= NEAR_CAP * cap:
        alerts.append(f"daily budget {100 * spent / cap:.0f}% of {_usd(cap)}")
    return alerts


def line(data: dict[str, Any], summary: dict[str, Any], running: bool, now: float) -> str:
    """The status line for Claude Code's ``data``, the service's ``summary`` and whether the service runs."""
    session_id = data.get("session_id")
    cost = _number(_object(data.get("cost")).get("total_cost_usd"))
    parts: list[str] = []
    if cost is not None:
        parts.append(f"{_usd(cost)} session")
    today_day = time.strftime("%Y-%m-%d", time.gmtime(now))
    written = _number(summary.get("written_at")) or 0.0
    if summary.get("day") == today_day:
        today = _number(summary.get("today_usd"))
        sessions = _object(summary.get("sessions"))
        mine = _object(sessions.get(session_id)) if isinstance(session_id, str) else {}
        if today is not None:
            # The store has this session's cost as of its last ingest; Claude Code's own figure is newer.
            stored = _number(mine.get("stored_usd")) or 0.0
            total = today - stored + (cost or 0.0)
            fresh = running and now - written <= STALE_S
            parts.append(
                f"{_usd(total)} today" + ("" if fresh else time.strftime(" (as of %H:%M)", time.localtime(written)))
            )
        delegations = _number(mine.get("delegations"))
        if delegations:
            saved = _number(mine.get("saved_usd")) or 0.0
            count = int(delegations)
            parts.append(f"{count} delegation{'' if count == 1 else 's'} saved {_usd(saved)}")
        if running:
            parts += _alerts(summary)
    context = _context(data)
    if context:
        parts.append(context)
    if not running:
        parts.append("switchboard service not running")
    return SEP.join(parts) or "switchboard"


def main() -> int:
    try:
        data = read_input(sys.stdin.buffer)
        home_dir = home()
        text = line(data, read_summary(home_dir), service_running(home_dir), time.time())
    except Exception:  # a status line never shows a traceback
        text = "switchboard"
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
