"""Groq through its official ``groq`` SDK (``pip install 'switchboard[groq]'``); same chat shape as OpenAI."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from server.providers.openai_compat import OpenAICompatProvider

__all__ = ["GroqProvider"]


def _import_groq() -> ModuleType:
    try:
        import groq
    except ImportError as exc:
        raise ImportError("the groq provider needs its SDK: pip install 'switchboard[groq]'") from exc
    return groq


class GroqProvider(OpenAICompatProvider):
    """Talks to Groq's chat completions; ``base_url`` points it at a proxy or a fake.

    The groq SDK mirrors the openai SDK (client, errors, response shapes), so only the SDK and client differ.
    """

    def _import_sdk(self) -> ModuleType:
        return _import_groq()

    def _make_client(self, **options: Any) -> Any:
        return self._sdk.AsyncGroq(**options)
