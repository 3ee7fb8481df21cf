"""A fake OpenAI Responses API (``POST /v1/responses``, streamed) on loopback, for the real Codex CLI.

Codex CLI speaks only the Responses API. Each request is answered from ``script(body)``: a list of output
items (a message text, or a function call the CLI should run) with the usage to report. With no script it
answers ``"echo: <last user text>"``. Every request body is kept in ``requests``.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackServer

__all__ = ["Call", "FakeResponses", "Turn", "function_outputs", "last_user_text"]


@dataclass(frozen=True)
class Call:
    """A function call the model makes (``arguments`` is the JSON object the tool receives)."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Turn:
    """One scripted response: text and/or function calls, and its usage."""

    text: str | None = None
    calls: list[Call] = field(default_factory=list[Call])
    input_tokens: int = 1200
    cached_tokens: int = 0
    output_tokens: int = 40
    reasoning_tokens: int = 0


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user message in a Responses request's ``input``."""
    for item in reversed(body.get("input") or []):
        if isinstance(item, dict) and item.get("role") == "user":
            content: Any = item.get("content")
            if isinstance(content, str):
                return content
            texts = [part.get("text", "") for part in content or [] if isinstance(part, dict)]
            return "".join(texts)
    return ""


def function_outputs(body: dict[str, Any]) -> int:
    """How many tool results the conversation holds so far (script turns from this, not from the last item)."""
    items = body.get("input") or []
    return sum(1 for i in items if isinstance(i, dict) and str(i.get("type", "")).endswith("call_output"))


class FakeResponses(LoopbackServer):
    """Serve the fake in a background thread; use as a context manager."""

    def __init__(self, script: Callable[[dict[str, Any]], Turn] | None = None) -> None:
        self.script = script or (lambda body: Turn(text=f"echo: {last_user_text(body)}"))
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)


def _events(fake: FakeResponses, body: dict[str, Any], turn: Turn) -> list[tuple[str, dict[str, Any]]]:
    rid = f"resp_{fake.next_id()}"
    model = str(body.get("model", ""))
    items: list[dict[str, Any]] = []
    if turn.text is not None:
        content = [{"type": "output_text", "text": turn.text, "annotations": []}]
        items.append(
            {"type": "message", "id": f"msg_{rid}", "role": "assistant", "status": "completed", "content": content}
        )
    for call in turn.calls:
        n = fake.next_id()
        arguments = json.dumps(call.arguments)
        items.append(
            {
                "type": "function_call",
                "id": f"fc_{n}",
                "call_id": f"call_{n}",
                "name": call.name,
                "arguments": arguments,
            }
        )
    usage = {
        "input_tokens": turn.input_tokens,
        "input_tokens_details": {"cached_tokens": turn.cached_tokens},
        "output_tokens": turn.output_tokens,
        "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
        "total_tokens": turn.input_tokens + turn.output_tokens,
    }
    base = {"id": rid, "object": "response", "model": model, "status": "in_progress", "output": []}
    events: list[tuple[str, dict[str, Any]]] = [("response.created", {"response": base})]
    for index, item in enumerate(items):
        events.append(("response.output_item.added", {"output_index": index, "item": item}))
        if item["type"] == "message":
            delta = {"output_index": index, "item_id": item["id"], "content_index": 0, "delta": turn.text}
            events.append(("response.output_text.delta", delta))
        events.append(("response.output_item.done", {"output_index": index, "item": item}))
    done = {**base, "status": "completed", "output": items, "usage": usage}
    events.append(("response.completed", {"response": done}))
    return events


def _handler_for(fake: FakeResponses) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # see ARCHITECTURE.md: small answers otherwise wait for a delayed ACK

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send_json(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            fake.paths.append(f"GET {self.path}")
            if self.path.split("?")[0].rstrip("/").endswith("/models"):
                self._send_json(200, {"object": "list", "data": [], "models": []})
                return
            self._send_json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length) or b"{}"
            fake.paths.append(f"POST {self.path}")
            if not self.path.split("?")[0].rstrip("/").endswith("/responses"):
                self._send_json(404, {"error": {"message": "not found"}})
                return
            body = json.loads(raw)
            fake.requests.append(body)
            events = _events(fake, body, fake.script(body))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            for sequence, (name, data) in enumerate(events):
                payload = json.dumps({"type": name, "sequence_number": sequence, **data})
                self.wfile.write(f"event: {name}\ndata: {payload}\n\n".encode())
            self.wfile.flush()

    return Handler
