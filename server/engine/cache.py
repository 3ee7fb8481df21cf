"""An opt-in TTL cache of identical requests: same provider, model, messages and parameters give the stored answer.

The service shares one cache between sessions on the same config; the provider's identity (kind, base URL and a
fingerprint of the key, :meth:`server.providers.registry.Registry.identity`) is part of the key, so a session
never reads an answer that was paid for with another key (one it may not hold, or one since revoked).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict

from server.providers.base import Completion, CompletionRequest

__all__ = ["ResponseCache", "cache_key"]


def cache_key(provider: str, model_id: str, request: CompletionRequest) -> str:
    """A digest of everything that shapes the answer, and of who was asked (``provider``: its identity)."""
    payload = json.dumps({"provider": provider, "model": model_id, **asdict(request)}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


class ResponseCache:
    """Answers kept for ``ttl_s`` seconds, at most ``max_entries`` (least recently used go first).

    Args:
        enabled: When False, ``get`` always misses and ``put`` keeps nothing.
        ttl_s: How long an answer stays valid.
        max_entries: The bound on memory.
        clock: Monotonic seconds (tests pass a fake clock).
    """

    def __init__(
        self, *, enabled: bool, ttl_s: float, max_entries: int = 512, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.enabled = enabled
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Completion]] = OrderedDict()

    def get(self, provider: str, model_id: str, request: CompletionRequest) -> Completion | None:
        if not self.enabled:
            return None
        key = cache_key(provider, model_id, request)
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, completion = entry
        if self._clock() - stored_at > self.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return completion

    def put(self, provider: str, model_id: str, request: CompletionRequest, completion: Completion) -> None:
        if not self.enabled:
            return
        key = cache_key(provider, model_id, request)
        self._entries[key] = (self._clock(), completion)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
