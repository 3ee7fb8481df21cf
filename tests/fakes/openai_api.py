"""A fake OpenAI-compatible API served over real HTTP on loopback, with scripted per-request faults.

``POST /v1/chat/completions`` (plain and ``stream: true``) and ``GET /v1/models``. Each request for a model
takes the next scripted :class:`Reply` for that model (or for ``"*"``); with nothing scripted it answers
``"echo: <last user message>"``. Every request body is kept in ``requests`` for assertions.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from tests.fakes.loopback import LoopbackServer

__all__ = ["FakeOpenAI", "Reply", "closed_port"]

ReplyKind = Literal["ok", "status", "hang", "refuse", "garbage", "empty", "cut"]


@dataclass
class Reply:
    """One scripted answer.

    ``kind``: ``ok`` (a completion), ``status`` (an error status with ``headers``), ``hang`` (no answer until the
    fake stops), ``refuse`` (close the connection without answering), ``garbage`` (200 with a non-JSON body),
    ``empty`` (valid JSON without any choice), ``cut`` (the body, or the stream, stops halfway and the connection
    closes).
    """

    kind: ReplyKind = "ok"
    text: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict[str, str])
    delay_s: float = 0.0
    input_tokens: int = 11
    output_tokens: int = 7
    cached_tokens: int = 0
    finish_reason: str = "stop"

    @classmethod
    def error(cls, status: int, retry_after: float | None = None) -> Reply:
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        return cls(kind="status", status=status, headers=headers)


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeOpenAI(LoopbackServer):
    """Serve the fake API on 127.0.0.1 in a background thread; use as a context manager."""

    def __init__(
        self,
        models: list[str] | None = None,
        api_key: str | None = None,
        responder: Callable[[dict[str, Any]], Reply | None] | None = None,
    ) -> None:
        self.models = models or ["model-a", "model-b"]
        self.api_key = api_key
        self.responder = responder
        """Asked first with each request body; a reply computed from the request, or None for the scripts."""
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        """The ``Authorization`` header of every request that arrived (an empty string when it had none)."""
        self.model_list_calls = 0
        self.hangups: list[str] = []
        self._hangup = threading.Condition()
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def script(self, model: str, *replies: Reply) -> None:
        """Queue ``replies`` for the next requests naming ``model`` (``"*"``: any model)."""
        with self._lock:
            self._scripts[model].extend(replies)

    def calls_for(self, model: str) -> int:
        return sum(1 for body in self.requests if body.get("model") == model)

    def next_reply(self, model: str) -> Reply:
        with self._lock:
            for key in (model, "*"):
                if self._scripts[key]:
                    return self._scripts[key].popleft()
        return Reply()

    def wait_or_hangup(self, connection: socket.socket, model: str, seconds: float) -> bool:
        """Wait ``seconds`` (or until the fake stops); True, and ``model`` noted in ``hangups``, if the client
        closed the connection first (a cancelled request)."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            readable, _, _ = select.select([connection], [], [], min(left, 0.05))
            if not readable:
                continue
            if _peek(connection):
                # Bytes of a next request, not a hang-up: wait without spinning on the readable socket.
                self._stopping.wait(min(left, 0.05))
                continue
            with self._hangup:
                self.hangups.append(model)
                self._hangup.notify_all()
            return True
        return False

    def wait_hangups(self, count: int, timeout_s: float) -> bool:
        """Block until ``count`` clients have hung up mid-request, at most ``timeout_s``."""
        with self._hangup:
            return self._hangup.wait_for(lambda: len(self.hangups) >= count, timeout_s)


def _peek(connection: socket.socket) -> bytes:
    try:
        return connection.recv(1, socket.MSG_PEEK)
    except OSError:
        return b""


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    messages = body.get("messages", [])
    last_user = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    text = reply.text if reply.text is not None else f"echo: {last_user}"
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": reply.finish_reason}
        ],
        "usage": {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
            "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
        },
    }


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without this every small response waits ~40 ms for a delayed ACK (see ARCHITECTURE.md).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if fake.api_key is None or self.headers.get("Authorization") == f"Bearer {fake.api_key}":
                return True
            # Like the real API, the message echoes the key it was given: a test that it never reaches the store.
            given = self.headers.get("Authorization", "").removeprefix("Bearer ")
            message = f"Incorrect API key provided: {given}"
            self._send_json(401, {"error": {"message": message, "type": "invalid_request_error"}})
            return False

        def do_GET(self) -> None:
            fake.authorizations.append(self.headers.get("Authorization", ""))
            # Any prefix: the openai SDK uses /v1/..., groq's /openai/v1/...
            if not self.path.rstrip("/").endswith("/models"):
                self._send_json(404, {"error": {"message": "not found"}})
                return
            if not self._authorized():
                return
            fake.model_list_calls += 1
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in fake.models]
            self._send_json(200, {"object": "list", "data": data})

        def do_POST(self) -> None:
            fake.authorizations.append(self.headers.get("Authorization", ""))
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send_json(404, {"error": {"message": "not found"}})
                return
            if not self._authorized():
                return
            fake.requests.append(body)
            computed = fake.responder(body) if fake.responder is not None else None
            reply = computed or fake.next_reply(str(body.get("model", "")))
            model = str(body.get("model", ""))
            if reply.delay_s and fake.wait_or_hangup(self.connection, model, reply.delay_s):
                self.close_connection = True
                return
            self._answer(body, reply)

        def _answer(self, body: dict[str, Any], reply: Reply) -> None:
            if reply.kind == "hang":
                fake.wait_or_hangup(self.connection, str(body.get("model", "")), 3600)
                self.close_connection = True
            elif reply.kind == "refuse":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif reply.kind == "status":
                message = {"error": {"message": f"scripted {reply.status}", "type": "server_error"}}
                self._send_json(reply.status, message, reply.headers)
            elif reply.kind == "empty":
                self._send_json(200, {**_completion(body, reply), "choices": []})
            elif reply.kind == "garbage":
                data = b"<html>bad gateway</html>"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            elif body.get("stream"):
                self._stream(body, reply)
            elif reply.kind == "cut":
                data = json.dumps(_completion(body, reply)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.close_connection = True
            else:
                self._send_json(200, _completion(body, reply))

        def _stream(self, body: dict[str, Any], reply: Reply) -> None:
            full = _completion(body, reply)
            text: str = full["choices"][0]["message"]["content"]
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            pieces = [text[: len(text) // 2], text[len(text) // 2 :]]
            for index, piece in enumerate(pieces):
                chunk = {
                    "id": full["id"],
                    "object": "chat.completion.chunk",
                    "created": full["created"],
                    "model": full["model"],
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                if reply.kind == "cut" and index == 0:
                    return
            final = {**full, "object": "chat.completion.chunk", "choices": [], "usage": full["usage"]}
            self.wfile.write(f"data: {json.dumps(final)}\n\ndata: [DONE]\n\n".encode())

    return Handler
