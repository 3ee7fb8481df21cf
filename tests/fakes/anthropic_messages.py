"""A small fake of Anthropic's Messages API (``POST /v1/messages``, ``GET /v1/models``) with scripted faults.

The same :class:`~tests.fakes.openai_api.Reply` script as the OpenAI fake: ``ok``, an error ``status`` (with
``Retry-After``), ``hang``, ``refuse``, ``garbage`` and ``cut`` (a streamed reply stops halfway; a plain one
sends half its body). For driving Claude Code itself, see ``tests/fakes/anthropic_api.py``.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackServer
from tests.fakes.openai_api import Reply

__all__ = ["FakeMessages"]


class FakeMessages(LoopbackServer):
    """Serve the fake on 127.0.0.1 in a background thread; use as a context manager."""

    def __init__(self, models: list[str] | None = None) -> None:
        self.models = models or ["claude-test"]
        self.requests: list[dict[str, Any]] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    @property
    def base_url(self) -> str:
        return self.root_url

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def next_reply(self) -> Reply:
        with self._lock:
            return self._script.popleft() if self._script else Reply()


def _message(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    last = body["messages"][-1]["content"] if body.get("messages") else ""
    text = reply.text if reply.text is not None else f"echo: {last}"
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", ""),
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_read_input_tokens": reply.cached_tokens,
            "cache_creation_input_tokens": 0,
        },
    }


def _handler_for(fake: FakeMessages) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None, length: int | None = None):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data) if length is None else length))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            data = [
                {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"} for m in fake.models
            ]
            payload = {"data": data, "has_more": False, "first_id": None, "last_id": None}
            self._send(200, json.dumps(payload).encode())

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            fake.requests.append(body)
            reply = fake.next_reply()
            if reply.kind == "hang":
                fake.wait_stopping(3600)
                self.close_connection = True
            elif reply.kind == "refuse":
                self.close_connection = True
                self.connection.close()
            elif reply.kind == "status":
                error = {"type": "error", "error": {"type": "api_error", "message": f"scripted {reply.status}"}}
                self._send(reply.status, json.dumps(error).encode(), reply.headers)
            elif reply.kind == "garbage":
                self._send(200, b"<html>bad gateway</html>")
            elif reply.kind == "cut":
                data = json.dumps(_message(body, reply)).encode()
                self._send(200, data[: len(data) // 2], length=len(data))
                self.close_connection = True
            else:
                self._send(200, json.dumps(_message(body, reply)).encode())

    return Handler
