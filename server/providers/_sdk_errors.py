"""Sort the exceptions of Stainless-generated SDKs (openai, anthropic, groq share the shape) into error classes."""

from __future__ import annotations

import json
from collections.abc import Generator
from contextlib import contextmanager
from types import ModuleType

from server.providers.base import ErrorClass, ProviderError

__all__ = ["classify_sdk_error", "retry_after_seconds", "sdk_errors"]


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the delta form; an HTTP date is treated as absent)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _status_class(status: int) -> ErrorClass:
    if status == 429:
        return ErrorClass.RATE_LIMITED
    if status >= 500:
        return ErrorClass.SERVER_ERROR
    if status in (401, 403):
        return ErrorClass.AUTH
    if status == 404:
        return ErrorClass.NOT_FOUND
    return ErrorClass.BAD_REQUEST


def classify_sdk_error(exc: Exception, sdk: ModuleType) -> ProviderError | None:
    """A :class:`ProviderError` for an SDK exception, or None when ``exc`` is not one the SDK raises for I/O."""
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderError(ErrorClass.TIMEOUT, "the request timed out")
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__ or exc
        return ProviderError(ErrorClass.CONNECTION, f"connection failed: {type(cause).__name__}: {cause}")
    if isinstance(exc, sdk.APIResponseValidationError):
        return ProviderError(ErrorClass.MALFORMED, f"malformed response: {exc}")
    if isinstance(exc, sdk.APIStatusError):
        status = int(getattr(exc, "status_code", 0))
        headers = getattr(getattr(exc, "response", None), "headers", {})
        retry_after = retry_after_seconds(headers.get("retry-after"))
        message = f"HTTP {status}: {getattr(exc, 'message', exc)}"[:500]
        return ProviderError(_status_class(status), message, retry_after_s=retry_after)
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        return ProviderError(ErrorClass.MALFORMED, f"response body is not JSON: {exc}")
    return None


@contextmanager
def sdk_errors(sdk: ModuleType) -> Generator[None]:
    """Re-raise ``sdk``'s exceptions as :class:`ProviderError`; exceptions it does not classify pass unchanged."""
    try:
        yield
    except Exception as exc:
        error = classify_sdk_error(exc, sdk)
        if error is None:
            raise
        raise error from exc
