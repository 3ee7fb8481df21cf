"""A fake Anthropic Messages API on loopback, scripted turn by turn.

Real clients (Claude Code, the ``anthropic`` SDK) talk to it over real HTTP. It speaks the streaming
protocol (``message_start``, ``content_block_start``, ``content_block_delta`` with ``text_delta`` or
``input_json_delta``, ``content_block_stop``, ``message_delta`` with ``stop_reason`` and ``usage``,
``message_stop``), the non-streaming reply, and ``count_tokens``.

A reply is chosen from the whole conversation, not from its last message (Claude Code may append a
``system`` entry): a :class:`Conversation` matches requests by a marker in their first user message and
answers with its turn number ``k`` when the request carries ``k`` ``tool_result`` blocks. Requests no
conversation claims (title generation, a subagent nobody scripted) get a short text answer.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest

__all__ = [
    "AnthropicFake",
    "Conversation",
    "Recorded",
    "ToolUse",
    "Turn",
    "Usage",
    "anthropic_api",
    "count_tool_results",
    "first_user_text",
    "serve_anthropic",
]

DEFAULT_MODEL = "claude-sonnet-4-5-20250929"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Usage:
    """The token counts a reply reports."""

    input_tokens: int = 100
    output_tokens: int = 20
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
        }


@dataclass(frozen=True)
class ToolUse:
    """A tool call the model makes."""

    name: str
    input: dict[str, Any]
    id: str = field(default_factory=lambda: f"toolu_fake{next(_ids):06d}")


@dataclass(frozen=True)
class Turn:
    """One assistant reply: optional text, then tool calls (``stop_reason`` follows from them)."""

    text: str | None = None
    tool_uses: tuple[ToolUse, ...] = ()
    usage: Usage = field(default_factory=Usage)

    @property
    def stop_reason(self) -> str:
        return "tool_use" if self.tool_uses else "end_turn"

    def content(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if self.text is not None:
            blocks.append({"type": "text", "text": self.text})
        blocks.extend({"type": "tool_use", "id": t.id, "name": t.name, "input": t.input} for t in self.tool_uses)
        return blocks


@dataclass
class Conversation:
    """A scripted conversation: claims requests whose first user message contains ``marker``."""

    marker: str
    turns: list[Turn]

    def claims(self, body: dict[str, Any]) -> bool:
        return self.marker in first_user_text(body)

    def reply(self, body: dict[str, Any]) -> Turn:
        """Turn ``k`` for a request carrying ``k`` tool results; the last turn once the script runs out."""
        return self.turns[min(count_tool_results(body), len(self.turns) - 1)]


@dataclass(frozen=True)
class Recorded:
    """A request the fake received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def first_user_text(body: dict[str, Any]) -> str:
    """The text of every user message up to and including the first one with text."""
    texts: list[str] = []
    for message in body.get("messages", []):
        if message.get("role") != "user":
            continue
        texts.append(_text_of(message.get("content")))
        if texts[-1].strip():
            break
    return "\n".join(texts)


def count_tool_results(body: dict[str, Any]) -> int:
    """How many ``tool_result`` blocks the conversation holds."""
    return sum(
        1
        for message in body.get("messages", [])
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    )


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def stream_events(turn: Turn, model: str) -> Iterator[bytes]:
    """The SSE frames of ``turn``, in the order the real API sends them."""
    message_id = f"msg_fake{next(_ids):06d}"
    start_usage = turn.usage.as_dict() | {"output_tokens": 1}
    message = {"id": message_id, "type": "message", "role": "assistant", "model": model, "content": []}
    yield _sse("message_start", {"type": "message_start", "message": message | {"usage": start_usage}})
    for index, block in enumerate(turn.content()):
        if block["type"] == "text":
            yield _sse(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
            )
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            empty = block | {"input": {}}
            yield _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": empty})
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        yield _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
    stop = {"stop_reason": turn.stop_reason, "stop_sequence": None}
    yield _sse("message_delta", {"type": "message_delta", "delta": stop, "usage": turn.usage.as_dict()})
    yield _sse("message_stop", {"type": "message_stop"})


class AnthropicFake:
    """The scripted state behind the server: conversations, a default reply, and what was seen."""

    def __init__(self, conversations: list[Conversation] | None = None, default: Turn | None = None) -> None:
        self.conversations = list(conversations or [])
        self.default = default or Turn(text="ok", usage=Usage(input_tokens=10, output_tokens=2))
        self.requests: list[Recorded] = []
        self.base_url = ""
        self._lock = threading.Lock()

    def choose(self, body: dict[str, Any]) -> Turn:
        for conversation in self.conversations:
            if conversation.claims(body):
                return conversation.reply(body)
        return self.default

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def messages(self) -> list[Recorded]:
        """The Messages API calls seen (``count_tokens`` excluded)."""
        with self._lock:
            return [r for r in self.requests if r.path.startswith("/v1/messages") and "count_tokens" not in r.path]


class _Handler(BaseHTTPRequestHandler):
    # Without this, each small response waits ~40 ms for a delayed ACK (see ARCHITECTURE.md).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``fake.requests`` instead."""

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self._start(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start(self, status: int) -> None:
        self.send_response(status)
        # The real API names every response; Claude Code records it as the transcript's ``requestId``.
        self.send_header("request-id", f"req_fake{next(_ids):06d}")

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._send_json(200, {"data": [], "has_more": False})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body: dict[str, Any] = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "bad json"}})
            return
        path = self.path.split("?", 1)[0]
        fake = cast(_Server, self.server).fake
        fake.record(Recorded(path=path, headers={k.lower(): v for k, v in self.headers.items()}, body=body))
        if path.endswith("/count_tokens"):
            self._send_json(200, {"input_tokens": max(1, len(raw) // 4)})
        elif path.endswith("/v1/messages"):
            self._reply(fake.choose(body), body)
        else:
            self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": path}})

    def _reply(self, turn: Turn, body: dict[str, Any]) -> None:
        model = str(body.get("model") or DEFAULT_MODEL)
        if not body.get("stream"):
            message = {"id": f"msg_fake{next(_ids):06d}", "type": "message", "role": "assistant", "model": model}
            message |= {"content": turn.content(), "stop_reason": turn.stop_reason, "stop_sequence": None}
            self._send_json(200, message | {"usage": turn.usage.as_dict()})
            return
        frames = b"".join(stream_events(turn, model))
        self._start(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("content-length", str(len(frames)))
        self.end_headers()
        self.wfile.write(frames)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: AnthropicFake) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


@contextmanager
def serve_anthropic(fake: AnthropicFake | None = None) -> Generator[AnthropicFake]:
    """Serve ``fake`` on a free loopback port; ``fake.base_url`` says where. Shutdown is bounded."""
    fake = fake or AnthropicFake()
    server = _Server(fake)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def anthropic_api() -> Iterator[AnthropicFake]:
    """A running fake with no script: set ``anthropic_api.conversations`` in the test."""
    with serve_anthropic() as fake:
        yield fake
