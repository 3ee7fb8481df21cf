"""HOOK_EVENTS is the list of hook events inside the Claude Code binary the tests pin (tests/package.json)."""

from __future__ import annotations

import mmap
import re
from pathlib import Path

from server.store.hook_events import CAPTURE_EVENTS, HOOK_EVENTS, UNCAPTURED_EVENTS

CLAUDE = Path(__file__).resolve().parents[2] / "node_modules" / "@anthropic-ai" / "claude-code-linux-x64" / "claude"
# The binary's array of every event name starts with the tool events and holds dozens of quoted names.
_EVENT_ARRAY = re.compile(rb'\["PreToolUse","PostToolUse"(?:,"[A-Za-z]+"){20,}\]')


def _events_in_binary() -> set[str]:
    assert CLAUDE.is_file(), "run: (cd tests && npm ci)"
    with CLAUDE.open("rb") as binary, mmap.mmap(binary.fileno(), 0, access=mmap.ACCESS_READ) as data:
        arrays = {match.group(0) for match in _EVENT_ARRAY.finditer(data)}
    assert arrays, "no event list found in the Claude Code binary"
    longest = max(arrays, key=len)
    return {name.decode() for name in re.findall(rb'"([A-Za-z]+)"', longest)}


def test_hook_events_are_exactly_the_events_claude_code_can_fire() -> None:
    assert set(HOOK_EVENTS) == _events_in_binary()
    assert len(HOOK_EVENTS) == len(set(HOOK_EVENTS))


def test_capture_skips_only_events_whose_hooks_replace_claude_codes_behaviour() -> None:
    assert set(CAPTURE_EVENTS) == set(HOOK_EVENTS) - UNCAPTURED_EVENTS
    assert UNCAPTURED_EVENTS == {"WorktreeCreate"}
