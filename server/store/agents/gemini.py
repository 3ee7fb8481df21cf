"""Gemini CLI's chats: ``~/.gemini/tmp/<project>/chats/session-<time>-<id>.jsonl`` (``.json`` before 0.5x).

Learned from Gemini CLI 0.61 run headless against a fake Gemini API (``tests/server/store/agents/``). The
JSONL file starts with a header (``sessionId``, ``projectHash``, ``startTime``, ``kind``); then come messages
(``id``, ``timestamp``, ``type`` user / gemini / info / error / warning) and ``{"$set": {...}}`` updates. A
``gemini`` message is written again, whole, once its tool calls finish: the last copy of an ``id`` wins. Its
``tokens`` are ``input`` (cache reads included), ``cached``, ``output``, ``thoughts`` (billed as output) and
``tool`` (tool-use prompt tokens, billed as input); ``model``; ``toolCalls`` (``id``, ``name``, ``args``,
``status``, ``result``, ``timestamp``). The older ``.json`` file is one object with the header's fields and a
``messages`` list of the same messages. The project's folder is in ``<project>/.project_root``.

Calls the CLI makes outside the chat (its model router's classifier) are not in the file, so not counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from server.store.agents.log import LINE_CAP, AgentLogRead, LoggedTool, LoggedUsage, count, parse_time, summary
from server.store.transcripts import open_regular

__all__ = ["AGENT", "PRICING_PROVIDER", "find_logs", "home", "read_log"]

AGENT = "gemini"
PRICING_PROVIDER = "google"
_MESSAGE_TYPES = {"user", "gemini", "info", "error", "warning"}
_TOKEN_FIELDS = ("input", "cached", "output", "thoughts", "tool")


def home() -> Path:
    """``~/.gemini``."""
    return Path.home() / ".gemini"


def find_logs(root: Path) -> Iterator[Path]:
    """Every chat file under ``root/tmp/*/chats`` (regular files only), in name order."""
    for pattern in ("tmp/*/chats/session-*.jsonl", "tmp/*/chats/session-*.json"):
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                yield path


class _Reader:
    def __init__(self) -> None:
        self.log = AgentLogRead(AGENT)
        self.messages: dict[str, dict[str, Any]] = {}

    def record(self, record: Any) -> None:
        if not isinstance(record, dict):
            self.log.skipped["not a JSON object"] += 1
        elif "$set" in record:
            pass  # metadata updates (lastUpdated, the session-context message): nothing to count
        elif isinstance(record.get("sessionId"), str) and "type" not in record:
            self.header(record)
        elif isinstance(record.get("id"), str) and record.get("type") in _MESSAGE_TYPES:
            self.messages[record["id"]] = record
        else:
            self.log.skipped[f"unknown record {str(record.get('type', sorted(record)[:3]))[:60]}"] += 1

    def header(self, record: dict[str, Any]) -> None:
        self.log.session_id = self.log.session_id or str(record["sessionId"])[:200]
        self.log.seen(parse_time(record.get("startTime")))
        version = record.get("cliVersion") or record.get("version")
        if isinstance(version, str):
            self.log.cli_version = version[:50]

    def finish(self) -> None:
        for key, message in self.messages.items():
            when = parse_time(message.get("timestamp"))
            self.log.seen(when)
            if message.get("type") != "gemini":
                continue
            tokens = message.get("tokens")
            if tokens is not None:
                usage = _usage(tokens, message.get("model"), when)
                if usage is None:
                    self.log.skipped["gemini message with unreadable tokens"] += 1
                else:
                    self.log.usage[key[:150]] = usage
            for index, call in enumerate(message.get("toolCalls") or []):
                if isinstance(call, dict):
                    call_id = call.get("id") if isinstance(call.get("id"), str) else f"{key}:{index}"
                    self.log.tools[str(call_id)[:150]] = _tool(call, when)


def _usage(tokens: Any, model: Any, when: Any) -> LoggedUsage | None:
    if not isinstance(tokens, dict):
        return None
    values = [count(tokens.get(f, 0)) for f in _TOKEN_FIELDS]
    if any(v is None for v in values):
        return None
    prompt, cached, output, thoughts, tool = (v or 0 for v in values)
    cached = min(cached, prompt)
    name = model[:200] if isinstance(model, str) and model else "unknown"
    return LoggedUsage(name, when, prompt - cached + tool, cached, output + thoughts)


def _tool(call: dict[str, Any], asked: Any) -> LoggedTool:
    status = {"success": "ok", "error": "error", "cancelled": "error"}.get(str(call.get("status")), "pending")
    result = call.get("resultDisplay", call.get("result"))
    return LoggedTool(
        str(call.get("name") or "unknown")[:200],
        started_at=asked,
        ended_at=parse_time(call.get("timestamp")),
        status=status,
        input_summary=summary(call.get("args")),
        response_summary=summary(result),
    )


def read_log(path: Path) -> AgentLogRead:
    """Everything ``path`` says; lines not understood are counted in ``skipped`` with their reason."""
    reader = _Reader()
    with open_regular(path) as handle:  # a FIFO put in its place is refused, never waited on
        if path.suffix == ".json":
            _read_whole(reader, handle.read())
        else:
            for raw in handle:
                if raw.strip():
                    _read_line(reader, raw)
    reader.finish()
    root = path.parent.parent / ".project_root"
    try:
        if root.is_file():
            reader.log.cwd = root.read_text(errors="replace").strip()[:4000] or None
    except OSError:
        reader.log.cwd = None
    return reader.log


def _read_line(reader: _Reader, raw: bytes) -> None:
    reader.log.lines += 1
    if len(raw) > LINE_CAP:
        reader.log.skipped["line longer than 4 MiB"] += 1
        return
    try:
        reader.record(json.loads(raw))
    except ValueError:
        reader.log.skipped["not JSON"] += 1


def _read_whole(reader: _Reader, raw: bytes) -> None:
    try:
        whole: Any = json.loads(raw)
    except ValueError:
        reader.log.lines, reader.log.skipped["not JSON"] = 1, 1
        return
    if not isinstance(whole, dict):
        reader.log.lines, reader.log.skipped["not a JSON object"] = 1, 1
        return
    messages = whole.pop("messages", [])
    if isinstance(whole.get("sessionId"), str):
        reader.header(whole)
    for message in messages if isinstance(messages, list) else []:
        reader.log.lines += 1
        reader.record(message)
