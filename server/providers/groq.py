"""Groq through its official ``groq`` SDK (``pip install 'switchboard[groq]'``); same chat shape as OpenAI."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from server.providers._sdk_errors import classify_sdk_error
from server.providers.base import Completion, CompletionRequest, Provider
from server.providers.openai_compat import chat_messages, to_completion

__all__ = ["GroqProvider"]


def _import_groq() -> ModuleType:
    try:
        import groq
    except ImportError as exc:
        raise ImportError("the groq provider needs its SDK: pip install 'switchboard[groq]'") from exc
    return groq


class GroqProvider(Provider):
    """Talks to Groq's chat completions; ``base_url`` points it at a proxy or a fake."""

    def __init__(self, name: str, *, api_key: str, base_url: str | None = None, client: Any = None) -> None:
        super().__init__(name)
        self._sdk = _import_groq()
        # max_retries=0: the delegate engine owns the one retry loop.
        self._client = client or self._sdk.AsyncGroq(api_key=api_key, base_url=base_url, max_retries=0)

    async def complete(self, model: str, request: CompletionRequest, *, timeout_s: float) -> Completion:
        params: dict[str, Any] = {"model": model, "messages": chat_messages(request), "timeout": timeout_s}
        if request.max_tokens is not None:
            params["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            params["temperature"] = request.temperature
        try:
            response = await self._client.chat.completions.create(**params)
        except Exception as exc:
            error = classify_sdk_error(exc, self._sdk)
            if error is None:
                raise
            raise error from exc
        return to_completion(response)

    async def list_models(self, *, timeout_s: float) -> list[str] | None:
        try:
            page = await self._client.models.list(timeout=timeout_s)
        except Exception as exc:
            error = classify_sdk_error(exc, self._sdk)
            if error is None:
                raise
            raise error from exc
        return [m.id for m in page.data]

    async def aclose(self) -> None:
        await self._client.close()
