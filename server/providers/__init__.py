"""Providers: one module per kind behind the :class:`~server.providers.base.Provider` base; SDKs load lazily."""

from server.providers.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    ErrorClass,
    MissingKeyError,
    Provider,
    ProviderError,
)
from server.providers.registry import ModelInfo, Registry, split_model_id

__all__ = [
    "ChatMessage",
    "Completion",
    "CompletionRequest",
    "ErrorClass",
    "MissingKeyError",
    "ModelInfo",
    "Provider",
    "ProviderError",
    "Registry",
    "split_model_id",
]
