"""Codex CLI's session logs: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<session id>.jsonl``.

Learned from Codex CLI 0.171 run headless against a fake Responses API (``tests/server/store/agents/``). Each
line is ``{"timestamp", "type", "payload"}``:

- ``session_meta``: ``id``, ``cwd``, ``cli_version``, ``model_provider``.
- ``turn_context``: the ``model`` the next responses use.
- ``token_usage_record`` (0.171): one per response, ``response_id`` and ``usage`` with ``input_tokens``
  (cache reads included, OpenAI's convention), ``cached_input_tokens``, ``output_tokens`` (reasoning included),
  ``reasoning_output_tokens``.
- ``event_msg`` ``token_count``: ``info.last_token_usage`` and the running ``info.total_token_usage``. Older
  versions write only these, some twice in a row; they are used when a file has no ``token_usage_record``,
  counting a response only when the running total moved.
- ``response_item`` ``function_call`` / ``function_call_output`` (joined on ``call_id``); ``event_msg``
  ``item_completed`` of a ``CommandExecution`` says whether the command failed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from server.store.agents.log import LINE_CAP, AgentLogRead, LoggedTool, LoggedUsage, count, parse_time, summary
from server.store.transcripts import open_regular

__all__ = ["AGENT", "PRICING_PROVIDER", "find_logs", "home", "read_log"]

AGENT = "codex"
PRICING_PROVIDER = "openai"
_KNOWN = {
    "session_meta",
    "turn_context",
    "token_usage_record",
    "event_msg",
    "response_item",
    "world_state",
    "compacted",
}
_USAGE_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens")


def home() -> Path:
    """``$CODEX_HOME``, else ``~/.codex``."""
    explicit = os.environ.get("CODEX_HOME")
    return Path(explicit) if explicit else Path.home() / ".codex"


def find_logs(root: Path) -> Iterator[Path]:
    """Every rollout file under ``root/sessions`` (regular files only), in name order."""
    for path in sorted((root / "sessions").glob("**/rollout-*.jsonl")):
        if path.is_file():
            yield path


class _Reader:
    def __init__(self) -> None:
        self.log = AgentLogRead(AGENT)
        self.model: str | None = None
        self.records: dict[str, LoggedUsage] = {}
        self.counts: dict[str, LoggedUsage] = {}
        self.last_total: tuple[int, ...] | None = None

    def line(self, number: int, raw: bytes) -> None:
        self.log.lines += 1
        if len(raw) > LINE_CAP:
            self.log.skipped["line longer than 4 MiB"] += 1
            return
        try:
            record: Any = json.loads(raw)
        except ValueError:
            self.log.skipped["not JSON"] += 1
            return
        kind = record.get("type") if isinstance(record, dict) else None
        payload = record.get("payload") if isinstance(record, dict) else None
        if kind not in _KNOWN or not isinstance(payload, dict):
            self.log.skipped[f"unknown record type {str(kind)[:40]!r}"] += 1
            return
        when = parse_time(record.get("timestamp"))
        self.log.seen(when)
        reason = getattr(self, f"_{kind}", _ignore)(number, when, payload)
        if reason:
            self.log.skipped[reason] += 1

    def _session_meta(self, _n: int, _when: Any, payload: dict[str, Any]) -> str | None:
        session_id = payload.get("id") or payload.get("session_id")
        if not isinstance(session_id, str) or not session_id:
            return "session_meta without an id"
        self.log.session_id = self.log.session_id or session_id[:200]
        version, cwd = payload.get("cli_version"), payload.get("cwd")
        self.log.cli_version = self.log.cli_version or (version[:50] if isinstance(version, str) else None)
        self.log.cwd = self.log.cwd or (cwd if isinstance(cwd, str) else None)
        return None

    def _turn_context(self, _n: int, _when: Any, payload: dict[str, Any]) -> str | None:
        model = payload.get("model")
        if isinstance(model, str) and model:
            self.model = model[:200]
        return None

    def _token_usage_record(self, n: int, when: Any, payload: dict[str, Any]) -> str | None:
        usage = _usage(payload.get("usage"), when, self.model)
        if usage is None:
            return "token_usage_record without token counts"
        key = payload.get("response_id")
        self.records[key if isinstance(key, str) and key else f"line {n}"] = usage
        return None

    def _event_msg(self, n: int, when: Any, payload: dict[str, Any]) -> str | None:
        kind = payload.get("type")
        if kind == "token_count":
            return self._token_count(n, when, payload.get("info"))
        if kind == "item_completed":
            item = payload.get("item")
            if isinstance(item, dict) and item.get("type") == "CommandExecution":
                tool = self.log.tools.get(str(item.get("id")))
                if tool is not None and item.get("status") not in (None, "completed"):
                    tool.status = "error"
        return None

    def _token_count(self, n: int, when: Any, info: Any) -> str | None:
        if info is None:
            return None  # rate limits alone: no usage
        if not isinstance(info, dict):
            return "token_count without info"
        total = info.get("total_token_usage")
        moved = tuple(count((total or {}).get(f)) or 0 for f in _USAGE_FIELDS) if isinstance(total, dict) else None
        if moved is not None and moved == self.last_total:
            return None  # the same total written again: no new response
        self.last_total = moved
        usage = _usage(info.get("last_token_usage"), when, self.model)
        if usage is None:
            return "token_count without token counts"
        self.counts[f"line {n}"] = usage
        return None

    def _response_item(self, _n: int, when: Any, payload: dict[str, Any]) -> str | None:
        kind, call_id = payload.get("type"), payload.get("call_id")
        if kind in ("function_call", "custom_tool_call", "local_shell_call") and isinstance(call_id, str):
            name = payload.get("name") or kind
            arguments = payload.get("arguments", payload.get("input", payload.get("action")))
            tool = LoggedTool(str(name)[:200], started_at=when, input_summary=summary(arguments))
            self.log.tools[call_id[:150]] = tool
        elif kind in ("function_call_output", "custom_tool_call_output") and isinstance(call_id, str):
            tool = self.log.tools.get(call_id[:150])
            if tool is not None:
                tool.ended_at, tool.response_summary = when, summary(payload.get("output"))
                tool.status = "ok" if tool.status == "pending" else tool.status
        return None


def _ignore(*_args: Any) -> str | None:
    return None


def _usage(raw: Any, when: Any, model: str | None) -> LoggedUsage | None:
    if not isinstance(raw, dict):
        return None
    values = [count(raw.get(f, 0)) for f in _USAGE_FIELDS]
    if any(v is None for v in values):
        return None
    prompt, cached, output = (v or 0 for v in values)
    cached = min(cached, prompt)
    return LoggedUsage(
        model or "unknown", when, input_tokens=prompt - cached, cache_read_tokens=cached, output_tokens=output
    )


def read_log(path: Path) -> AgentLogRead:
    """Everything ``path`` says; lines not understood are counted in ``skipped`` with their reason."""
    reader = _Reader()
    with open_regular(path) as lines:  # a FIFO put in its place is refused, never waited on
        for number, raw in enumerate(lines, 1):
            if raw.strip():
                reader.line(number, raw)
    log = reader.log
    # Where 0.171's per-response records exist they are the usage; older files have only the token_count events.
    log.usage = reader.records or reader.counts
    if log.session_id is None and path.stem.count("-") >= 5:
        log.session_id = path.stem[-36:]  # rollout-<time>-<uuid>: the id is the name's tail
    return log
