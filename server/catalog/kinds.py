"""One descriptor per provider kind: the single table the registry, pricing, discovery and doctor read.

Adding a kind is one module (a :class:`~server.providers.base.Provider`) and one entry here. Nothing is imported
from the entry until a provider of that kind is first used (``factory`` is a lazy import path).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal

__all__ = ["KINDS", "KindDescriptor", "kind"]


@dataclass(frozen=True)
class KindDescriptor:
    """How one provider kind is built, keyed, priced, accounted and checked."""

    name: str
    factory: str
    """``module:Class`` of its :class:`~server.providers.base.Provider`, imported on first use."""
    key: Literal["required", "optional", "none"]
    """``optional``: sent only when ``api_key_env`` or ``api_key_file`` is configured (local servers need none)."""
    pricing_provider: str | None
    """The genai-prices provider id for its models; None: the preset's, the config's ``pricing_provider``, or the
    provider's own name."""
    reports_usage: bool
    """False: no token counts come back (agent CLIs), so a call's cost is unknown (NULL), never $0."""
    probe: Literal["list_models", "command"]
    """How ``doctor`` checks it: a free ``GET /models``, or that the command is on ``PATH``."""
    transport: Literal["http", "command"] = "http"
    """What its constructor takes: ``api_key`` and ``base_url``, or ``command``."""

    def provider_class(self) -> type:
        module, _, name = self.factory.partition(":")
        return getattr(importlib.import_module(module), name)


_SDK = "server.providers"

KINDS: dict[str, KindDescriptor] = {
    descriptor.name: descriptor
    for descriptor in (
        KindDescriptor(
            "openai", f"{_SDK}.openai_compat:OpenAICompatProvider", "required", "openai", True, "list_models"
        ),
        KindDescriptor(
            "openai-compatible", f"{_SDK}.openai_compat:OpenAICompatProvider", "optional", None, True, "list_models"
        ),
        KindDescriptor(
            "anthropic", f"{_SDK}.anthropic:AnthropicProvider", "required", "anthropic", True, "list_models"
        ),
        KindDescriptor("groq", f"{_SDK}.groq:GroqProvider", "required", "groq", True, "list_models"),
        KindDescriptor("cli", f"{_SDK}.cli:CliProvider", "none", None, False, "command", transport="command"),
    )
}
"""Every provider kind, by the name written as ``kind = "..."`` in the config."""


def kind(name: str) -> KindDescriptor:
    """The descriptor of kind ``name``.

    Raises:
        ValueError: no such kind (the message lists the known ones).
    """
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown provider kind {name!r} (known: {', '.join(KINDS)})") from None
