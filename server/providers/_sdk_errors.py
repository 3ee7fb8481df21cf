"""Sort the exceptions of Stainless-generated SDKs (openai, anthropic, groq share the shape) into error classes."""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import ModuleType

from server.providers.base import ErrorClass, ProviderError

__all__ = ["classify_sdk_error", "retry_after_seconds", "sdk_errors"]


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """How long the server asks us to wait: ``retry-after-ms`` (OpenAI's and Anthropic's APIs send it), else
    ``Retry-After`` as seconds or as an HTTP date; None when neither says (or says nonsense).

    ``headers`` must look names up case-insensitively (httpx's ``Headers`` do).
    """
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a zone-less one is read as such
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_CONNECT_FAILURES = {"ConnectError", "ConnectTimeout"}


def _never_connected(exc: BaseException) -> bool:
    """Whether the chain under ``exc`` says no connection was made (so no request was sent).

    Matched by class name: SDKs bundle their own copy of httpx (the openai SDK's is ``httpx2``).
    """
    seen: BaseException | None = exc
    for _ in range(10):  # the chain is short; the bound guards against a cycle
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or type(seen).__name__ in _CONNECT_FAILURES:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


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
        # Refused or never connected: nothing ran. Cut after the request went out: the model may have run.
        sent = not _never_connected(exc)
        return ProviderError(
            ErrorClass.CONNECTION, f"connection failed: {type(cause).__name__}: {cause}", maybe_billed=sent
        )
    if isinstance(exc, sdk.APIResponseValidationError):
        return ProviderError(ErrorClass.MALFORMED, f"malformed response: {exc}")
    if isinstance(exc, sdk.APIStatusError):
        status = int(getattr(exc, "status_code", 0))
        headers = getattr(getattr(exc, "response", None), "headers", {})
        retry_after = retry_after_seconds(headers)
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
