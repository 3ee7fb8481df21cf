"""Tokens and cost from Claude Code's transcripts (JSONL), since hook payloads carry none.

An assistant message is written once per content block, each line repeating the message's usage: usage
is deduplicated on ``message.id`` + ``requestId`` (the last line wins: it carries the final counts).
Claude Code's own ``cost-state`` record (``totalCostUSD``, last one wins) is the session's cost of record,
unless it says ``hasUnknownModelCost`` (then its total leaves something out), or is not a finite, non-negative
number.

Lines are parsed with orjson, which refuses nesting past 1,024 levels (``json`` raised ``RecursionError`` on a
line 1,200 levels deep and stopped ingest); such a line is skipped like any other line that is not JSON. A usage
line whose counts are negative, not whole numbers or absurd is skipped and counted with its reason
(``Transcript.skipped``).

The path comes from a hook payload, so reading it is bounded whatever it names: only regular files are
read (opened with ``O_NONBLOCK``, then checked with ``fstat``, so a FIFO is refused, never waited on), line
by line with a cap per line (:data:`MAX_LINE_BYTES`) and per call (:data:`MAX_READ_BYTES`).
"""

from __future__ import annotations

import logging
import math
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

import orjson

if TYPE_CHECKING:
    from server.pricing import LinePrices
    from server.store.read_ahead import ReadAhead

__all__ = [
    "ABSURD_TOKENS",
    "COST_STATE",
    "MAX_LINE_BYTES",
    "MAX_READ_BYTES",
    "Mark",
    "NotRegularFile",
    "PackedTranscript",
    "Transcript",
    "TranscriptCache",
    "UsageLine",
    "load_line",
    "open_regular",
    "pack",
    "parse_transcript",
    "price_usage",
    "projects_dir",
    "read_transcript",
    "read_transcripts",
    "unpack",
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

ABSURD_TOKENS = 100_000_000
"""More tokens than this in one response is no real count (the largest context windows hold 1-2 million)."""


class NotRegularFile(OSError):
    """The path names a FIFO, a device or a folder: nothing a transcript can be."""


class UsageLine(NamedTuple):
    """The usage of one API response.

    A named tuple, not a dataclass: an import makes one per usage line in the worker that parses and again here
    from what crosses (244,367 at 10,000 sessions), and a tuple is made from a row in one C call.
    """

    message_id: str
    request_id: str
    model: str
    agent_id: str | None
    created_at: datetime | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    cache_creation_1h_tokens: int = 0
    """The part of ``cache_creation_tokens`` written for one hour (2x input rather than 1.25x)."""
    service_tier: str | None = None
    speed: str | None = None
    priced: bool = False
    """Whether :attr:`cost_usd` was computed already (by the worker that read the line, see ``read_transcript``)."""
    cost_usd: float | None = None
    """The list-price cost when :attr:`priced`; None there means the model has no price."""

    @property
    def counts(self) -> tuple[int, int, int, int, int]:
        """The token counts, in the order of ``model_usage``'s columns."""
        return (
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_creation_tokens,
            self.cache_creation_1h_tokens,
        )

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
    skipped: dict[str, int] = field(default_factory=dict[str, int])
    """Usage lines refused, by reason."""
    _seen: dict[tuple[str, str | None], Any] = field(default_factory=dict[tuple[str, str | None], Any], repr=False)
    """The raw usage last read per (message id, request id): a streamed duplicate is recognised unbuilt."""


class _BadCount(ValueError):
    """A usage count no response can have; the message is the reason counted."""


def _count(value: Any) -> int:
    if type(value) is int and 0 <= value <= ABSURD_TOKENS:
        return value
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadCount("count not a number")
    if isinstance(value, float) and not value.is_integer():
        raise _BadCount("count not a whole number" if math.isfinite(value) else "count not a number")
    if value < 0:
        raise _BadCount("negative count")
    if value > ABSURD_TOKENS:
        raise _BadCount(f"absurd count (over {ABSURD_TOKENS:,})")
    return int(value)


def _short(value: Any) -> str | None:
    return value[:50] if isinstance(value, str) and value else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


_new_line = UsageLine._make
"""A line from its values in field order (one call; keywords cost ~1 us more a line)."""


def _usage_line(record: dict[str, Any], default_agent_id: str | None) -> UsageLine | None:
    """The line's usage, or None when it has none; raises :class:`_BadCount` when a count is unusable."""
    message = record.get("message")
    if not isinstance(message, dict):
        return None
    usage, message_id, model = message.get("usage"), message.get("id"), message.get("model")
    if not isinstance(usage, dict) or not isinstance(message_id, str) or not isinstance(model, str):
        return None
    if model == _SYNTHETIC_MODEL:
        return None
    get = usage.get
    inp, out = _count(get("input_tokens")), _count(get("output_tokens"))
    read, write = _count(get("cache_read_input_tokens")), _count(get("cache_creation_input_tokens"))
    split = usage.get("cache_creation")
    write_1h = _count(split.get("ephemeral_1h_input_tokens")) if isinstance(split, dict) else 0
    if "cache_creation_input_tokens" not in usage and isinstance(split, dict):
        write = write_1h + _count(split.get("ephemeral_5m_input_tokens"))
    if write_1h > write:
        raise _BadCount("1-hour cache writes over all cache writes")
    request_id = record.get("requestId")
    agent_id = record.get("agentId") if record.get("isSidechain") else None
    return _new_line(
        (
            message_id[:_ID],
            request_id[:_ID] if isinstance(request_id, str) else "",
            model[:_ID],
            agent_id[:_ID] if isinstance(agent_id, str) else default_agent_id,
            _time(record.get("timestamp")),
            inp,
            out,
            read,
            write,
            write_1h,
            _short(get("service_tier")),
            _short(get("speed")),
            False,
            None,
        )
    )


def _cost_of_record(record: dict[str, Any]) -> float | None:
    cost = record.get("totalCostUSD")
    if not isinstance(cost, int | float) or isinstance(cost, bool) or not math.isfinite(cost) or cost < 0:
        return None
    # Claude Code leaves out what it cannot price: its total is then no cost of record.
    return None if record.get("hasUnknownModelCost") is True else float(cost)


def load_line(raw: bytes) -> dict[str, Any] | None:
    """One JSONL line as a JSON object, or None: not JSON, not an object, or nested too deep to parse."""
    try:
        record = orjson.loads(raw)
    except (ValueError, RecursionError):  # orjson refuses nesting past 1,024 levels with a ValueError
        return None
    return record if isinstance(record, dict) else None


def _repeated(result: Transcript, record: dict[str, Any]) -> bool:
    """Whether the line repeats the usage its response's previous line had (Claude Code writes one per block)."""
    message = record.get("message")
    if not isinstance(message, dict):
        return False
    message_id, request_id, usage = message.get("id"), record.get("requestId"), message.get("usage")
    if not isinstance(message_id, str) or not isinstance(request_id, str | None) or usage is None:
        return False
    key = (message_id, request_id)
    if result._seen.get(key) == usage:
        return True
    result._seen[key] = usage
    return False


def _apply(result: Transcript, raw: bytes, agent_id: str | None) -> None:
    # Most lines are neither usage nor cost: skip them without decoding.
    if b'"usage"' not in raw and _COST_STATE_BYTES not in raw:
        return
    record = load_line(raw)
    if record is None:
        if _COST_STATE_BYTES in raw:
            # A cost state orjson refuses (NaN, Infinity, 1e999 are not JSON) still replaces the one before it:
            # the earlier total is stale, so the session has no cost of record until a readable one follows.
            result.total_cost_usd = None
        return
    if record.get("type") == COST_STATE:
        result.cost_state_seen = True
        result.total_cost_usd = _cost_of_record(record)
        return
    if _repeated(result, record):
        return
    try:
        line = _usage_line(record, agent_id)
    except _BadCount as exc:
        reason = str(exc)
        result.skipped[reason] = result.skipped.get(reason, 0) + 1
        return
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


def projects_dir(explicit: Path | None = None) -> Path:
    """Where Claude Code keeps transcripts: ``$CLAUDE_CONFIG_DIR/projects``, else ``~/.claude/projects``."""
    if explicit is not None:
        return explicit
    config = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(config) if config else Path.home() / ".claude") / "projects"


PackedTranscript = tuple[list[tuple[Any, ...]], float | None, bool, tuple[Any, ...] | None, bool, dict[str, int]]
"""A :class:`Transcript` as plain tuples, which pickle in a third of the time its objects take (65,223 lines:
0.11 s to pack and pickle, 0.09 s to unpickle and unpack, against 0.34 s and 0.23 s)."""


def pack(transcript: Transcript) -> PackedTranscript:
    """What :func:`unpack` turns back into an equal transcript (without the raw usage a read keeps for itself)."""
    last = transcript.last_main_usage
    return (
        [tuple(line) for line in transcript.usage.values()],
        transcript.total_cost_usd,
        transcript.cost_state_seen,
        None if last is None else tuple(last),
        transcript.more,
        transcript.skipped,
    )


def unpack(packed: PackedTranscript) -> Transcript:
    rows, total_cost_usd, cost_state_seen, last, more, skipped = packed
    usage = {(row[0], row[1]): _new_line(row) for row in rows}
    last_line = None if last is None else _new_line(last)
    return Transcript(usage, total_cost_usd, cost_state_seen, last_line, more, skipped)


def read_transcripts(reads: list[tuple[str, str | None, int]]) -> list[tuple[PackedTranscript, int] | OSError]:
    """:func:`read_transcript` for each (path, agent id, offset): what it returned, or the ``OSError`` it raised."""
    results: list[tuple[PackedTranscript, int] | OSError] = []
    for path, agent_id, offset in reads:
        try:
            results.append(read_transcript(path, agent_id, offset))
        except OSError as exc:
            results.append(exc)
    return results


def read_transcript(path: str, agent_id: str | None, offset: int) -> tuple[PackedTranscript, int]:
    """:func:`parse_transcript` as a worker process runs it for :class:`~server.store.read_ahead.ReadAhead`:
    each line priced there too, the result packed (:func:`pack`) to cross to the importing process."""
    from server.pricing import LinePrices

    prices = LinePrices()
    transcript, end = parse_transcript(Path(path), agent_id, offset)
    transcript.usage = {key: _priced(line, prices) for key, line in transcript.usage.items()}
    last = transcript.last_main_usage
    if last is not None:
        same = transcript.usage.get((last.message_id, last.request_id))
        # Priced apart when a later line of the same response replaced it in usage.
        transcript.last_main_usage = (
            same if same is not None and same[:_PRICED] == last[:_PRICED] else _priced(last, prices)
        )
    return pack(transcript), end


def _priced(line: UsageLine, prices: LinePrices) -> UsageLine:
    """``line`` with its list-price cost."""
    cost = prices.cost(line.model, line.created_at, line.service_tier, line.speed, line.counts)
    return _new_line((*line[:_PRICED], True, cost))


_PRICED = UsageLine._fields.index("priced")


def price_usage(line: UsageLine) -> float | None:
    """The response's cost at list prices, from every field that changes it; None when the model has no price."""
    from server.pricing import cost_usd  # genai-prices costs ~0.2 s to import: only when there is usage

    return cost_usd(
        line.model,
        input_tokens=line.input_tokens,
        output_tokens=line.output_tokens,
        cache_read_tokens=line.cache_read_tokens,
        cache_write_tokens=line.cache_creation_tokens,
        cache_write_1h_tokens=line.cache_creation_1h_tokens,
        service_tier=line.service_tier,
        speed=line.speed,
        when=line.created_at,
    )


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
class Mark:
    """How far one transcript was read: its identity, size and mtime then, and the offset reached."""

    device: int
    inode: int
    size: int
    """-1 when a read budget cut the read short: read on next time although the file did not change."""
    mtime_ns: int
    offset: int
    skipped: tuple[tuple[str, int], ...] = ()
    """Usage lines refused so far, by reason."""

    def unchanged(self, info: os.stat_result) -> bool:
        """Whether the file is the one marked, with nothing appended since."""
        return (self.device, self.inode, self.size, self.mtime_ns) == (
            info.st_dev,
            info.st_ino,
            info.st_size,
            info.st_mtime_ns,
        )

    def resumes(self, info: os.stat_result) -> bool:
        """Whether reading can go on from :attr:`offset`: the same file, not cut shorter than what was read."""
        return (self.device, self.inode) == (info.st_dev, info.st_ino) and info.st_size >= self.offset


def _merge(before: tuple[tuple[str, int], ...], new: dict[str, int]) -> tuple[tuple[str, int], ...]:
    merged = dict(before)
    for reason, count in new.items():
        merged[reason] = merged.get(reason, 0) + count
    return tuple(sorted(merged.items()))


class TranscriptCache:
    """Remembers how far each transcript was read, so only what Claude Code appended is read next time.

    Marks are staged while a transaction is open and kept only once it commits (:meth:`commit`); after a
    rollback (:meth:`discard`) the same lines are read again next time. The store keeps them too
    (``transcript_mark``, see :mod:`server.store.usage_rows`), so every process shares them: :meth:`know` takes
    marks read from it, :meth:`staged` gives the ones to write in the same transaction as the rows.
    """

    def __init__(self, read_ahead: ReadAhead | None = None) -> None:
        self._seen: dict[str, Mark] = {}
        self._staged: dict[str, Mark] = {}
        self.read_ahead = read_ahead
        """Reads planned ahead (:class:`ReadAhead`), taken when the file is still the one planned for."""

    def know(self, marks: dict[str, Mark]) -> None:
        """Take marks the store holds (written by this or another process)."""
        self._seen.update(marks)

    def mark(self, path: str) -> Mark | None:
        return self._staged.get(path) or self._seen.get(path)

    def staged(self) -> dict[str, Mark]:
        """The marks of reads not committed yet."""
        return dict(self._staged)

    def is_unchanged(self, path: str) -> bool:
        """Whether ``path`` is the file last read, with nothing appended (False when unreadable or never read)."""
        mark = self.mark(path)
        if mark is None:
            return False
        try:
            return mark.unchanged(os.stat(path))
        except OSError:
            return False

    def read_if_changed(self, path: str, agent_id: str | None = None) -> Transcript | None:
        """What was appended since the last read, or None when nothing was, or the file is missing or unreadable.

        A file replaced (another device or inode) or cut shorter is read again from its start.
        """
        try:
            start = self.start(path)
            if start is None:
                return None
            info, base, offset = start
            ahead = self.read_ahead.take(path, agent_id, info, offset) if self.read_ahead else None
            transcript, offset = ahead or parse_transcript(Path(path), agent_id, offset)
        except OSError as exc:
            logger.debug("transcript %s unreadable: %s", path, exc)
            return None
        # A read cut short by the budget must go on next time although the file did not change.
        size = -1 if transcript.more else info.st_size
        skipped = _merge(base.skipped if base else (), transcript.skipped)
        self._staged[path] = Mark(info.st_dev, info.st_ino, size, info.st_mtime_ns, offset, skipped)
        return transcript

    def start(self, path: str) -> tuple[os.stat_result, Mark | None, int] | None:
        """Where a read of ``path`` starts: None when nothing changed since the last read; else the file's
        ``stat``, the mark it goes on from (None: from the start) and that offset.

        Raises:
            NotRegularFile: the path is not a regular file.
            OSError: it cannot be ``stat``-ed.
        """
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"not a regular file: {path}")
        mark = self.mark(path)
        if mark is not None and mark.unchanged(info):
            return None
        if mark is not None and mark.resumes(info):
            return info, mark, mark.offset
        return info, None, 0

    def commit(self) -> None:
        self._seen.update(self._staged)
        self._staged.clear()

    def discard(self) -> None:
        self._staged.clear()
