"""OpenAI and every OpenAI-compatible endpoint (Cerebras, Together, Gemini, DeepSeek, OpenRouter, Ollama...)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from server.providers._sdk_errors import sdk_errors
from server.providers.base import Completion, CompletionRequest, ErrorClass, Provider, ProviderError

__all__ = ["OpenAICompatProvider", "chat_messages", "to_completion"]


def chat_messages(request: CompletionRequest) -> list[dict[str, str]]:
    """The request as chat-completions messages, system prompt first."""
    messages = [{"role": "system", "content": request.system}] if request.system else []
    messages.extend({"role": m.role, "content": m.content} for m in request.messages)
    return messages


def _import_openai() -> ModuleType:
    try:
        import openai
    except ImportError as exc:  # pragma: no cover - openai is a core dependency
        raise ImportError("the openai SDK is missing: pip install openai") from exc
    return openai


class OpenAICompatProvider(Provider):
    """Talks to a chat-completions endpoint through the official ``openai`` SDK.

    Args:
        name: The provider's configured name.
        api_key: The key (local servers accept any placeholder).
        base_url: The endpoint; None means OpenAI itself.
        client: An SDK client to use instead of building one (tests, shared pools).
    """

    def __init__(self, name: str, *, api_key: str, base_url: str | None = None, client: Any = None) -> None:
        super().__init__(name)
        self._sdk = self._import_sdk()
        # max_retries=0: the delegate engine owns the one retry loop (fallback, Retry-After).
        self._client = client or self._make_client(api_key=api_key, base_url=base_url, max_retries=0)

    def _import_sdk(self) -> ModuleType:
        return _import_openai()

    def _make_client(self, **options: Any) -> Any:
        return self._sdk.AsyncOpenAI(**options)

    async def complete(self, model: str, request: CompletionRequest, *, timeout_s: float) -> Completion:
        params: dict[str, Any] = {"model": model, "messages": chat_messages(request), "timeout": timeout_s}
        if request.max_tokens is not None:
            params["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            params["temperature"] = request.temperature
        with sdk_errors(self._sdk):
            response = await self._client.chat.completions.create(**params)
        return to_completion(response)

    async def list_models(self, *, timeout_s: float) -> list[str] | None:
        with sdk_errors(self._sdk):
            page = await self._client.models.list(timeout=timeout_s)
        return [m.id for m in page.data]

    async def aclose(self) -> None:
        await self._client.close()


def to_completion(response: Any) -> Completion:
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise ProviderError(ErrorClass.MALFORMED, "response has no choices")
    text = getattr(getattr(choices[0], "message", None), "content", None)
    if not isinstance(text, str):
        raise ProviderError(ErrorClass.MALFORMED, "response has no message content")
    usage = getattr(response, "usage", None)
    details = getattr(usage, "prompt_tokens_details", None)
    return Completion(
        text=text,
        input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cached_tokens=int(getattr(details, "cached_tokens", 0) or 0),
        extra=_finish(getattr(choices[0], "finish_reason", None)),
    )


def _finish(reason: object) -> dict[str, str]:
    """``finish_reason`` ("length" when the output-token limit cut the answer), when the endpoint sent one."""
    return {"finish_reason": reason} if isinstance(reason, str) else {}
