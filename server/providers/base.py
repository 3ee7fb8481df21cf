"""What every provider kind implements: one ``complete`` call, and errors sorted into classes the router acts on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "ChatMessage",
    "Completion",
    "CompletionRequest",
    "ErrorClass",
    "MissingKeyError",
    "Provider",
    "ProviderError",
]


class ErrorClass(StrEnum):
    """Why an attempt failed; stored as ``delegation.status``. Every class moves on to the next candidate."""

    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    CONNECTION = "connection"
    MALFORMED = "malformed"
    CLI_ERROR = "cli_error"
    UNAVAILABLE = "unavailable"
    AUTH = "auth"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    MISSING_KEY = "missing_key"
    DEADLINE = "deadline"
    """Cut off by the client's tool timeout, not the provider's own: says nothing about the model."""


class ProviderError(Exception):
    """An attempt failed in a way the caller of ``complete`` can act on.

    Args:
        error_class: What kind of failure this is.
        message: What happened, for the error text (never contains a key).
        retry_after_s: The server's ``Retry-After``, when it sent one.
        maybe_billed: The request reached the model before it failed (a stream cut halfway): its cost is unknown,
            not zero, whatever the error class.
    """

    def __init__(
        self, error_class: ErrorClass, message: str, *, retry_after_s: float | None = None, maybe_billed: bool = False
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.retry_after_s = retry_after_s
        self.maybe_billed = maybe_billed


class MissingKeyError(ProviderError):
    """No API key was found; the message names the environment variable to set."""

    def __init__(self, provider: str, variable: str) -> None:
        super().__init__(
            ErrorClass.MISSING_KEY,
            f"provider {provider!r} has no API key: set {variable} in the environment or in a .env file "
            f"(project or user config directory), or point api_key_file at a file holding it",
        )
        self.variable = variable


@dataclass(frozen=True)
class ChatMessage:
    """One conversation turn; ``role`` is ``user`` or ``assistant``."""

    role: str
    content: str


@dataclass(frozen=True)
class CompletionRequest:
    """What to ask: the conversation so far, an optional system prompt and output cap."""

    messages: tuple[ChatMessage, ...]
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None

    def approx_input_tokens(self) -> int:
        """A cheap upper-ish estimate (4 characters a token) used for context-window and budget checks."""
        chars = sum(len(m.content) for m in self.messages) + len(self.system or "")
        return chars // 4 + 8 * len(self.messages)


@dataclass
class Completion:
    """A provider's answer with the usage it reported; ``input_tokens`` includes the ``cached_tokens``."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    extra: dict[str, str] = field(default_factory=dict[str, str])


class Provider(ABC):
    """One configured provider: a name and a way to complete a request with one of its models."""

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    async def complete(self, model: str, request: CompletionRequest, *, timeout_s: float) -> Completion:
        """Answer ``request`` with ``model``.

        Raises:
            ProviderError: classified failure (timeouts, 5xx, 429, connection errors, malformed answers...).
        """

    async def list_models(self, *, timeout_s: float) -> list[str] | None:
        """The models the endpoint offers, through a free call such as ``GET /models``; None when it has none."""
        del timeout_s
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most providers hold nothing to close
        """Release connections."""
