"""Anthropic's Messages API through the official ``anthropic`` SDK (``pip install 'switchboard[anthropic]'``)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from server.providers._sdk_errors import sdk_errors
from server.providers.base import Completion, CompletionRequest, ErrorClass, Provider, ProviderError

__all__ = ["DEFAULT_MAX_TOKENS", "AnthropicProvider"]

# The Messages API requires max_tokens; this is used when the caller gives none.
DEFAULT_MAX_TOKENS = 4096


def _import_anthropic() -> ModuleType:
    try:
        import anthropic
    except ImportError as exc:
        raise ImportError("the anthropic provider needs its SDK: pip install 'switchboard[anthropic]'") from exc
    return anthropic


class AnthropicProvider(Provider):
    """Talks to the Messages API; ``base_url`` points it at a proxy or a fake."""

    def __init__(self, name: str, *, api_key: str, base_url: str | None = None, client: Any = None) -> None:
        super().__init__(name)
        self._sdk = _import_anthropic()
        # max_retries=0: the delegate engine owns the one retry loop.
        self._client = client or self._sdk.AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=0)

    async def complete(self, model: str, request: CompletionRequest, *, timeout_s: float) -> Completion:
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "timeout": timeout_s,
        }
        if request.system:
            params["system"] = request.system
        if request.temperature is not None:
            params["temperature"] = request.temperature
        with sdk_errors(self._sdk):
            response = await self._client.messages.create(**params)
        return _to_completion(response)

    async def list_models(self, *, timeout_s: float) -> list[str] | None:
        with sdk_errors(self._sdk):
            page = await self._client.models.list(timeout=timeout_s)
        return [m.id for m in page.data]

    async def aclose(self) -> None:
        await self._client.close()


def _to_completion(response: Any) -> Completion:
    blocks = getattr(response, "content", None)
    if not isinstance(blocks, list):
        raise ProviderError(ErrorClass.MALFORMED, "response has no content blocks")
    texts = [str(getattr(b, "text", "")) for b in blocks if getattr(b, "type", None) == "text"]
    if not texts:
        raise ProviderError(ErrorClass.MALFORMED, "response has no text block")
    usage = getattr(response, "usage", None)
    cached = int(getattr(usage, "cache_read_input_tokens", 0) or 0)
    written = int(getattr(usage, "cache_creation_input_tokens", 0) or 0)
    # Completion.input_tokens counts all input, cached included (the OpenAI convention), like every provider.
    return Completion(
        text="".join(texts),
        input_tokens=int(getattr(usage, "input_tokens", 0) or 0) + cached + written,
        output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
        cached_tokens=cached,
        # "max_tokens" when the output-token limit cut the answer.
        extra={"finish_reason": stop} if isinstance(stop := getattr(response, "stop_reason", None), str) else {},
    )
