"""A Claude Code projects folder written the way Claude Code 2.1 writes it, and its cost at list prices.

Compact JSON (no spaces), one line per content block with the message's usage repeated on each (streamed
duplicates), 5-minute and 1-hour cache writes, Sonnet requests past 200k input tokens, subagent transcripts
with their own agent ids, no ``cost-state`` record (Claude Code writes none to transcripts it keeps).

:func:`list_price` recomputes the cost from the files alone with Anthropic's published rates written out here,
not with genai-prices: the bench and the tests hold switchboard's import to it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
OPUS = "claude-opus-4-1-20250805"

# USD per million tokens: input, output, cache read, 5-minute write (1.25x), 1-hour write (2x), from
# https://platform.claude.com/docs/en/about-claude/pricing. Sonnet 4.5 past 200k input tokens: the whole
# request at the long-context rates.
RATES: dict[str, tuple[float, float, float, float, float]] = {
    SONNET: (3.0, 15.0, 0.30, 3.75, 6.0),
    HAIKU: (1.0, 5.0, 0.10, 1.25, 2.0),
    OPUS: (15.0, 75.0, 1.50, 18.75, 30.0),
}
LONG_CONTEXT = {SONNET: (6.0, 22.5, 0.60, 7.50, 12.0)}
LONG_CONTEXT_START = 200_000

_START = datetime(2026, 10, 1, 8, tzinfo=UTC)


def _dump(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"


@dataclass
class _Writer:
    rng: random.Random
    session_id: str
    cwd: str
    clock: datetime
    long_session: bool
    hour_cache: bool

    def _time(self) -> str:
        self.clock += timedelta(seconds=self.rng.randint(2, 90))
        return self.clock.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.clock.microsecond // 1000:03d}Z"

    def user(self) -> bytes:
        text = "x" * self.rng.randint(200, 3000)
        return _dump(
            {
                "parentUuid": None,
                "isSidechain": False,
                "userType": "external",
                "cwd": self.cwd,
                "sessionId": self.session_id,
                "version": "2.1.328",
                "type": "user",
                "message": {"role": "user", "content": [{"type": "tool_result", "content": text}]},
                "uuid": f"u-{self.rng.getrandbits(64):016x}",
                "timestamp": self._time(),
            }
        )

    def usage(self, model: str, context: int) -> dict[str, Any]:
        write = self.rng.randint(200, 12_000)
        hour = write if self.hour_cache and self.rng.random() < 0.7 else 0
        return {
            "input_tokens": self.rng.randint(1, 40),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": context,
            "cache_creation": {"ephemeral_5m_input_tokens": write - hour, "ephemeral_1h_input_tokens": hour},
            "output_tokens": self.rng.randint(5, 1500),
            "service_tier": "standard",
        }

    def assistant(self, turn: int, model: str, context: int, agent: str | None = None) -> bytes:
        usage = self.usage(model, context)
        message_id = f"msg_{self.rng.getrandbits(96):024x}"
        request_id = f"req_{self.rng.getrandbits(96):024x}"
        stamp = self._time()
        blocks = self.rng.choice([("text",), ("thinking", "text"), ("text", "tool_use"), ("thinking", "tool_use")])
        lines = b""
        for block in blocks:  # one line per content block, the usage repeated on each
            record: dict[str, Any] = {
                "parentUuid": None,
                "isSidechain": agent is not None,
                "userType": "external",
                "cwd": self.cwd,
                "sessionId": self.session_id,
                "version": "2.1.328",
                **({"agentId": agent} if agent else {}),
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [{"type": block, block if block != "tool_use" else "input": "y" * 400}],
                    "stop_reason": None,
                    "usage": usage,
                },
                "requestId": request_id,
                "type": "assistant",
                "uuid": f"a-{turn}-{self.rng.getrandbits(64):016x}",
                "timestamp": stamp,
            }
            lines += _dump(record)
        return lines

    def context(self, turn: int, turns: int) -> int:
        base = 12_000 + (turn * 1_900) % 150_000
        if self.long_session and turn % 7 == 3:
            return LONG_CONTEXT_START + self.rng.randint(1_000, 60_000)
        return base


def write_session(folder: Path, rng: random.Random, number: int, turns: int) -> None:
    """One session's transcript, and for about a third of them one or two subagent transcripts."""
    session_id = f"{rng.getrandbits(128):032x}"
    session_id = f"{session_id[:8]}-{session_id[8:12]}-{session_id[12:16]}-{session_id[16:20]}-{session_id[20:]}"
    clock = _START + timedelta(hours=number * 7 % (24 * 60), minutes=rng.randint(0, 59))
    writer = _Writer(rng, session_id, "/work/app", clock, rng.random() < 0.3, rng.random() < 0.5)
    model = SONNET if rng.random() < 0.8 else OPUS
    with (folder / f"{session_id}.jsonl").open("wb") as out:
        for turn in range(turns):
            out.write(writer.user())
            out.write(writer.assistant(turn, model, writer.context(turn, turns)))
    for _ in range(rng.choice([0, 0, 1, 2])):
        agent = f"{rng.getrandbits(64):016x}"
        subagents = folder / session_id / "subagents"
        subagents.mkdir(parents=True, exist_ok=True)
        with (subagents / f"agent-{agent}.jsonl").open("wb") as out:
            for turn in range(max(2, turns // 8)):
                out.write(writer.assistant(turn, HAIKU, 8_000 + turn * 500, agent))


def write_projects(root: Path, sessions: int, turns: int, seed: int = 22) -> None:
    """A projects folder of ``sessions`` sessions of about ``turns`` requests each, in two project folders."""
    rng = random.Random(seed)
    folders = [root / "-work-app", root / "-work-api"]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    for number in range(sessions):
        write_session(folders[number % 2], rng, number, max(2, int(turns * rng.uniform(0.5, 1.5))))


def transcripts(root: Path) -> Iterator[Path]:
    yield from sorted(root.rglob("*.jsonl"))


def usage_lines(root: Path) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """Every response's usage under ``root``, deduplicated on message and request id."""
    found: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for path in transcripts(root):
        with path.open("rb") as lines:
            for raw in lines:
                if b'"usage"' not in raw:
                    continue
                record = orjson.loads(raw)
                message = record.get("message") or {}
                if isinstance(message, dict) and isinstance(message.get("usage"), dict):
                    found[(message["id"], record.get("requestId", ""))] = (message["model"], message["usage"])
    return found


def price(model: str, usage: dict[str, Any]) -> float:
    """One response at list prices (the whole request at the long-context rate past 200k input tokens)."""
    inp, read = usage.get("input_tokens", 0), usage.get("cache_read_input_tokens", 0)
    write = usage.get("cache_creation_input_tokens", 0)
    hour = (usage.get("cache_creation") or {}).get("ephemeral_1h_input_tokens", 0)
    rates = RATES[model]
    if inp + read + write > LONG_CONTEXT_START and model in LONG_CONTEXT:
        rates = LONG_CONTEXT[model]
    r_in, r_out, r_read, r_write, r_hour = rates
    total = inp * r_in + usage.get("output_tokens", 0) * r_out + read * r_read
    return (total + (write - hour) * r_write + hour * r_hour) / 1e6


def list_price(root: Path) -> tuple[float, dict[str, int]]:
    """The folder's cost at list prices and its token totals, from the files alone."""
    totals = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0, "cache_write_1h": 0}
    cost = 0.0
    for model, usage in usage_lines(root).values():
        cost += price(model, usage)
        totals["input"] += usage["input_tokens"]
        totals["output"] += usage["output_tokens"]
        totals["cache_read"] += usage["cache_read_input_tokens"]
        totals["cache_write"] += usage["cache_creation_input_tokens"]
        totals["cache_write_1h"] += usage["cache_creation"]["ephemeral_1h_input_tokens"]
    return cost, totals
