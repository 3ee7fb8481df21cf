"""An opt-in TTL cache of identical requests: same model, messages and parameters give the stored answer."""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict

from server.providers.base import Completion, CompletionRequest

__all__ = ["ResponseCache", "cache_key"]


def cache_key(model_id: str, request: CompletionRequest) -> str:
    """A digest of everything that shapes the answer."""
    payload = json.dumps({"model": model_id, **asdict(request)}, sort_keys=True, default=str)
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

    def get(self, model_id: str, request: CompletionRequest) -> Completion | None:
        if not self.enabled:
            return None
        key = cache_key(model_id, request)
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, completion = entry
        if self._clock() - stored_at > self.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return completion

    def put(self, model_id: str, request: CompletionRequest, completion: Completion) -> None:
        if not self.enabled:
            return
        self._entries[cache_key(model_id, request)] = (self._clock(), completion)
        self._entries.move_to_end(cache_key(model_id, request))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
