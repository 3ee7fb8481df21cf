"""Tokens and cost from Claude Code's transcripts (JSONL), since hook payloads carry none.

An assistant message is written once per content block, each line repeating the message's usage: usage
is deduplicated on ``message.id`` + ``requestId`` (the last line wins: it carries the final counts).
Claude Code's own ``cost-state`` record (``totalCostUSD``, last one wins) is the session's cost of record,
unless it says ``hasUnknownModelCost`` (then its total leaves something out).

The path comes from a hook payload, so reading it is bounded whatever it names: only regular files are
read (opened with ``O_NONBLOCK``, then checked with ``fstat``, so a FIFO is refused, never waited on), line
by line with a cap per line (:data:`MAX_LINE_BYTES`) and per call (:data:`MAX_READ_BYTES`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "COST_STATE",
    "MAX_LINE_BYTES",
    "MAX_READ_BYTES",
    "NotRegularFile",
    "Transcript",
    "TranscriptCache",
    "UsageLine",
    "open_regular",
    "parse_transcript",
]

logger = logging.getLogger(__name__)

COST_STATE = "cost-state"
_COST_STATE_BYTES = COST_STATE.encode()
_SYNTHETIC_MODEL = "<synthetic>"
_ID = 200  # the size of model_usage's id columns

MAX_LINE_BYTES = 16 * 1024 * 1024
"""A longer line is skipped unread: usage and cost records are a few KB; a pasted image is a few MB."""

MAX_READ_BYTES = 128 * 1024 * 1024
"""One call reads at most this much and says there is ``more``; the next call goes on from there.

Measured: 128 MiB of a sparse file (no newline) took 1.2 s on a loaded 2-core machine; real transcripts
of long sessions are tens of MB, read once and then only what was appended."""

_SKIP_CHUNK = 1024 * 1024


class NotRegularFile(OSError):
    """The path names a FIFO, a device or a folder: nothing a transcript can be."""


@dataclass(frozen=True, slots=True)
class UsageLine:
    """The usage of one API response."""

    message_id: str
    request_id: str
    model: str
    agent_id: str | None
    created_at: datetime | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int

    @property
    def context_tokens(self) -> int:
        """The prompt's size: what filled the context window for this response."""
        return self.input_tokens + self.cache_read_tokens + self.cache_creation_tokens


@dataclass
class Transcript:
    """What a transcript says about usage and cost."""

    usage: dict[tuple[str, str], UsageLine] = field(default_factory=dict[tuple[str, str], UsageLine])
    total_cost_usd: float | None = None
    cost_state_seen: bool = False
    last_main_usage: UsageLine | None = None
    more: bool = False
    """The read stopped at :data:`MAX_READ_BYTES`: the file goes on past the offset returned."""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _usage_line(record: dict[str, Any], default_agent_id: str | None) -> UsageLine | None:
    message = record.get("message")
    if not isinstance(message, dict):
        return None
    usage, message_id, model = message.get("usage"), message.get("id"), message.get("model")
    if not isinstance(usage, dict) or not isinstance(message_id, str) or not isinstance(model, str):
        return None
    if model == _SYNTHETIC_MODEL:
        return None
    request_id = record.get("requestId")
    agent_id = record.get("agentId") if record.get("isSidechain") else None
    return UsageLine(
        message_id=message_id[:_ID],
        request_id=request_id[:_ID] if isinstance(request_id, str) else "",
        model=model[:_ID],
        agent_id=agent_id[:_ID] if isinstance(agent_id, str) else default_agent_id,
        created_at=_time(record.get("timestamp")),
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        cache_read_tokens=_int(usage.get("cache_read_input_tokens")),
        cache_creation_tokens=_int(usage.get("cache_creation_input_tokens")),
    )


def _cost_of_record(record: dict[str, Any]) -> float | None:
    cost = record.get("totalCostUSD")
    if not isinstance(cost, int | float) or isinstance(cost, bool):
        return None
    # json.loads reads NaN, Infinity and 1e999: none of them, nor a negative total, is a cost.
    if not math.isfinite(cost) or cost < 0:
        return None
    # Claude Code leaves out what it cannot price: its total is then no cost of record.
    return None if record.get("hasUnknownModelCost") is True else float(cost)


def _apply(result: Transcript, raw: bytes, agent_id: str | None) -> None:
    # Most lines are neither usage nor cost: skip them without decoding.
    if b'"usage"' not in raw and _COST_STATE_BYTES not in raw:
        return
    try:
        record = json.loads(raw)
    except ValueError:
        return
    if not isinstance(record, dict):
        return
    if record.get("type") == COST_STATE:
        result.cost_state_seen = True
        result.total_cost_usd = _cost_of_record(record)
        return
    line = _usage_line(record, agent_id)
    if line is not None:
        result.usage[(line.message_id, line.request_id)] = line
        if line.agent_id is None:
            result.last_main_usage = line


def parse_transcript(
    path: Path, agent_id: str | None = None, offset: int = 0, *, max_read: int | None = None
) -> tuple[Transcript, int]:
    """Read a transcript from byte ``offset``; lines that are not JSON objects, or too long, are skipped.

    Args:
        path: The JSONL file.
        agent_id: The subagent this transcript belongs to, None for a session's main transcript.
        offset: Where to start: the offset a previous call returned, to read only what was appended.
        max_read: Stop after reading about this many bytes (``Transcript.more`` then says so); None for
            :data:`MAX_READ_BYTES`.

    Returns:
        What the complete lines say, and the offset just past the last complete line (a line still
        being written, without its newline, is left for the next read; one over the cap is passed over).

    Raises:
        NotRegularFile: the path is not a regular file.
        OSError: it cannot be opened or read.
    """
    result = Transcript()
    with open_regular(path) as lines:
        lines.seek(offset)
        budget = offset + (MAX_READ_BYTES if max_read is None else max_read)
        while offset < budget:
            raw = lines.readline(MAX_LINE_BYTES + 1)
            if len(raw) > MAX_LINE_BYTES:
                tail = 0 if raw.endswith(b"\n") else _skip_line(lines, budget - offset - len(raw))
                offset += len(raw) + tail
                continue
            if not raw.endswith(b"\n"):
                return result, offset
            offset += len(raw)
            _apply(result, raw, agent_id)
        result.more = True
    return result, offset


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file.

    Opened with ``O_NONBLOCK`` and then checked with ``fstat``, so a FIFO (or a device) is refused, never waited
    on, even when it is swapped in after the caller looked.

    Raises:
        NotRegularFile: the path is not a regular file.
        OSError: it cannot be opened.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    lines = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        lines.close()
        raise NotRegularFile(f"not a regular file: {path}")
    return lines


def _skip_line(lines: BinaryIO, budget: int) -> int:
    """Read past the rest of an over-long line (or up to ``budget`` bytes); returns how many bytes."""
    skipped = 0
    while skipped < budget:
        chunk = lines.readline(_SKIP_CHUNK)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            break
    return skipped


@dataclass(frozen=True, slots=True)
class _Mark:
    inode: int
    size: int
    mtime_ns: int
    offset: int


class TranscriptCache:
    """Remembers how far each transcript was read, so only what Claude Code appended is read next time.

    Marks are staged while a transaction is open and kept only once it commits (:meth:`commit`); after a
    rollback (:meth:`discard`) the same lines are read again next time.
    """

    def __init__(self) -> None:
        self._seen: dict[str, _Mark] = {}
        self._staged: dict[str, _Mark] = {}

    def read_if_changed(self, path: str, agent_id: str | None = None) -> Transcript | None:
        """What was appended since the last read, or None when nothing was, or the file is missing or unreadable.

        A file replaced (another inode) or cut shorter is read again from its start.
        """
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                raise NotRegularFile(f"not a regular file: {path}")
            mark = self._staged.get(path) or self._seen.get(path)
            if mark is not None and (mark.inode, mark.size, mark.mtime_ns) == (
                info.st_ino,
                info.st_size,
                info.st_mtime_ns,
            ):
                return None
            same_file = mark is not None and mark.inode == info.st_ino and info.st_size >= mark.offset
            transcript, offset = parse_transcript(Path(path), agent_id, mark.offset if mark and same_file else 0)
        except OSError as exc:
            logger.debug("transcript %s unreadable: %s", path, exc)
            return None
        # A read cut short by the budget must go on next time although the file did not change.
        size = -1 if transcript.more else info.st_size
        self._staged[path] = _Mark(info.st_ino, size, info.st_mtime_ns, offset)
        return transcript

    def commit(self) -> None:
        self._seen.update(self._staged)
        self._staged.clear()

    def discard(self) -> None:
        self._staged.clear()
