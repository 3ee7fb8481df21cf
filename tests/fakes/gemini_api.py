"""A fake Gemini API (``generateContent``, ``streamGenerateContent``, ``countTokens``) on loopback, for the real
Gemini CLI.

Each request is answered from ``script(model, body)``: text and/or function calls with the usage to report.
With no script it answers ``"echo: <last user text>"``. Every request is kept in ``requests`` as
``(method, model, body)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackServer

__all__ = ["FakeGemini", "GeminiCall", "GeminiTurn", "function_responses", "json_reply", "last_user_text"]


@dataclass(frozen=True)
class GeminiCall:
    """A function call the model makes."""

    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class GeminiTurn:
    """One scripted answer and its ``usageMetadata``."""

    text: str | None = None
    calls: list[GeminiCall] = field(default_factory=list[GeminiCall])
    prompt_tokens: int = 900
    cached_tokens: int = 0
    output_tokens: int = 25
    thoughts_tokens: int = 0


def _texts(content: dict[str, Any]) -> str:
    return "".join(str(p.get("text", "")) for p in content.get("parts") or [] if isinstance(p, dict))


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user turn that is not a function response."""
    for content in reversed(body.get("contents") or []):
        if isinstance(content, dict) and content.get("role") == "user" and _texts(content):
            return _texts(content)
    return ""


def function_responses(body: dict[str, Any]) -> int:
    """How many function responses the conversation holds so far."""
    return sum(
        1
        for content in body.get("contents") or []
        for part in content.get("parts") or []
        if isinstance(part, dict) and "functionResponse" in part
    )


def json_reply(body: dict[str, Any]) -> str | None:
    """For a request that asks for JSON (the CLI's routing classifier, its loop checks): an object that fits the
    request's schema, each string "simple" and each number 1; None for other requests."""
    schema = (body.get("generationConfig") or {}).get("responseJsonSchema")
    return None if not isinstance(schema, dict) else json.dumps(_example(schema))


def _example(schema: dict[str, Any]) -> Any:
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        return {k: _example(v) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return []
    if schema.get("enum"):
        return schema["enum"][0]
    return {"string": "simple", "number": 1, "integer": 1, "boolean": False}.get(kind)


Script = Callable[[str, dict[str, Any]], GeminiTurn]


class FakeGemini(LoopbackServer):
    """Serve the fake in a background thread; use as a context manager."""

    def __init__(self, script: Script | None = None) -> None:
        self.script: Script = script or (lambda model, body: GeminiTurn(text=f"echo: {last_user_text(body)}"))
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        super().__init__(_handler_for(self))


def _answer(model: str, turn: GeminiTurn) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if turn.text is not None:
        parts.append({"text": turn.text})
    parts += [{"functionCall": {"name": c.name, "args": c.args}} for c in turn.calls]
    usage = {
        "promptTokenCount": turn.prompt_tokens,
        "candidatesTokenCount": turn.output_tokens,
        "totalTokenCount": turn.prompt_tokens + turn.output_tokens + turn.thoughts_tokens,
    }
    if turn.cached_tokens:
        usage["cachedContentTokenCount"] = turn.cached_tokens
    if turn.thoughts_tokens:
        usage["thoughtsTokenCount"] = turn.thoughts_tokens
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": "fake"}


def _handler_for(fake: FakeGemini) -> type[BaseHTTPRequestHandler]:
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
            self._send_json(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            path = self.path.split("?")[0]
            name, _, method = path.rpartition("/")[2].partition(":")
            fake.requests.append((method, name, body))
            if method == "countTokens":
                self._send_json(200, {"totalTokens": 100})
                return
            if method not in ("generateContent", "streamGenerateContent"):
                self._send_json(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
                return
            structured = json_reply(body)
            turn = GeminiTurn(text=structured, prompt_tokens=50, output_tokens=5) if structured else None
            answer = _answer(name, turn or fake.script(name, body))
            if method == "generateContent":
                self._send_json(200, answer)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(f"data: {json.dumps(answer)}\r\n\r\n".encode())
            self.wfile.flush()

    return Handler
