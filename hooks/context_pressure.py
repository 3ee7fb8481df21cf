#!/usr/bin/env python3
"""Claude Code ``UserPromptSubmit`` hook: warn when the session's context window is filling up (opt-in).

It reads only the tail of the transcript for the latest main-agent usage (input + cache read + cache
creation tokens: what filled the window for the last response, as ingest counts it). At or above the
threshold (``[context] threshold``, default 0.70, of ``window_tokens``, default 200,000, from the switchboard
config file) it prints hook JSON whose ``additionalContext`` is a one-line note suggesting work to delegate,
and records a ``ContextPressure`` event in the spool (Maildir-style, like capture.sh) for ingest to store.
Standard library only: it runs before every prompt. It exits 0 whatever happens.
"""

from __future__ import annotations

import json
import os
import sys
import time

TYPE_CHECKING = False  # importing typing (and pathlib) would add ~10 ms to every prompt
if TYPE_CHECKING:
    from typing import Any

DEFAULT_THRESHOLD = 0.70
DEFAULT_WINDOW_TOKENS = 200_000
TAIL_BYTES = 64 * 1024
MAX_TAIL_BYTES = 4 * 1024 * 1024
EVENT_NAME = "ContextPressure"


def _home() -> str:
    """SWITCHBOARD_HOME, as server.settings and capture.sh resolve it."""
    for name in ("SWITCHBOARD_HOME", "CLAUDE_PLUGIN_DATA"):
        if os.environ.get(name):
            return os.environ[name]
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/switchboard")
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(data, "switchboard")


def _config_bytes(cwd: str) -> bytes | None:
    """The config in force by the package's own trust rules (``server/trust.py``, loaded by path): an untrusted
    project file, or one another user owns or may write, is not read. None when there is none to read."""
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here)) if os.path.basename(here) == "_hooks" else os.path.dirname(here)
    spec = importlib.util.spec_from_file_location("switchboard_trust", os.path.join(root, "server", "trust.py"))
    if spec is None or spec.loader is None:
        return None
    trust = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trust)
    return trust.resolve(cwd, os.environ).data


def load_limits(cwd: str) -> tuple[float, int]:
    """``(threshold, window_tokens)`` from the ``[context]`` section; defaults when absent or unreadable."""
    threshold, window = DEFAULT_THRESHOLD, DEFAULT_WINDOW_TOKENS
    try:
        data = _config_bytes(cwd)
    except (OSError, ImportError):
        return threshold, window
    if data is None:
        return threshold, window
    import tomllib  # only when there is a file: the import costs a few ms

    try:
        section = tomllib.loads(data.decode("utf-8")).get("context", {})
    except ValueError:  # UnicodeDecodeError and TOMLDecodeError are ValueErrors
        return threshold, window
    if not isinstance(section, dict):
        return threshold, window
    if isinstance(section.get("threshold"), int | float):
        threshold = float(section["threshold"])
    if isinstance(section.get("window_tokens"), int) and section["window_tokens"] > 0:
        window = section["window_tokens"]
    return threshold, window


def _usage_tokens(line: bytes) -> int | None:
    if b'"usage"' not in line:
        return None
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict) or entry.get("type") != "assistant" or entry.get("isSidechain"):
        return None
    message: Any = entry.get("message")
    usage: Any = message.get("usage") if isinstance(message, dict) else None
    if not isinstance(usage, dict):
        return None
    keys = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    total = sum(v for k in keys if isinstance(v := usage.get(k), int))
    return total or None


def latest_context_tokens(transcript: str) -> int | None:
    """The context fill of the latest main-agent response, reading the transcript from its end."""
    with open(transcript, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        span = TAIL_BYTES
        while True:
            start = max(size - span, 0)
            f.seek(start)
            lines = f.read(size - start).splitlines()
            if start > 0:
                lines = lines[1:]  # the first line is cut
            for line in reversed(lines):
                tokens = _usage_tokens(line)
                if tokens is not None:
                    return tokens
            if start == 0 or span >= MAX_TAIL_BYTES:
                return None
            span *= 4


def note(fill: float, tokens: int, window: int) -> str:
    """The one line added to the prompt's context."""
    return (
        f"Context window {fill:.0%} full ({tokens:,} of {window:,} tokens). Hand self-contained work "
        "(drafting tests, boilerplate, summaries of long files or logs, second opinions) to the switchboard "
        "`delegate` tool so its tokens stay out of this context."
    )


def record(home: str, event: dict[str, Any]) -> None:
    """Write ``event`` into the spool: a file in ``tmp/``, then a rename into ``new/``."""
    spool = os.path.join(home, "spool")
    os.makedirs(os.path.join(spool, "tmp"), mode=0o700, exist_ok=True)
    os.makedirs(os.path.join(spool, "new"), mode=0o700, exist_ok=True)
    name = f"ctx-{time.time_ns()}-{os.getpid()}-{os.urandom(4).hex()}"
    tmp = os.path.join(spool, "tmp", name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(event, f)
    os.replace(tmp, os.path.join(spool, "new", name))


def run(payload: dict[str, Any]) -> str | None:
    """Handle one hook payload; returns the hook's JSON output, or None to print nothing."""
    transcript = payload.get("transcript_path")
    if not isinstance(transcript, str) or not transcript:
        return None
    cwd = payload["cwd"] if isinstance(payload.get("cwd"), str) else os.getcwd()
    threshold, window = load_limits(cwd)
    tokens = latest_context_tokens(transcript)
    if tokens is None:
        return None
    fill = tokens / window
    if fill < threshold:
        return None
    record(
        _home(),
        {
            "hook_event_name": EVENT_NAME,
            "session_id": payload.get("session_id"),
            "transcript_path": transcript,
            "cwd": cwd,
            "context_tokens": tokens,
            "window_tokens": window,
            "fill_ratio": round(fill, 4),
            "threshold": threshold,
        },
    )
    output = {
        "hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "additionalContext": note(fill, tokens, window)}
    }
    return json.dumps(output)


def main() -> int:
    try:
        payload = json.load(sys.stdin)
        output = run(payload) if isinstance(payload, dict) else None
        if output:
            sys.stdout.write(output + "\n")
    except Exception:  # a hook must never break the prompt: stay silent, exit 0
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
