"""One try of one model: cache, breaker, concurrency limit, timeout, usage and cost. Reused by consensus."""

from __future__ import annotations

import time

import anyio

from server.engine.records import Attempt, attempt_cost
from server.engine.runtime import Runtime
from server.providers.base import (
    Completion,
    CompletionRequest,
    ErrorClass,
    Provider,
    ProviderError,
)
from server.providers.registry import ModelInfo

__all__ = ["try_model"]

# Failures that say nothing about the provider's health (the request, the setup or the client is at fault): they
# never trip its breaker (server.outcomes is the same rule for learning, stats and health).
_NOT_HEALTH = {
    ErrorClass.BAD_REQUEST,
    ErrorClass.NOT_FOUND,
    ErrorClass.UNAVAILABLE,
    ErrorClass.AUTH,
    ErrorClass.MISSING_KEY,
    ErrorClass.DEADLINE,
}
# Refused before any model ran: nothing is billed, so the attempt costs $0. A timeout, a malformed answer or a
# failing CLI may have run the model: their cost is unknown and stays NULL (shown as such, never as $0).
_UNBILLED = {
    ErrorClass.SERVER_ERROR,
    ErrorClass.RATE_LIMITED,
    ErrorClass.CONNECTION,
    ErrorClass.UNAVAILABLE,
    ErrorClass.AUTH,
    ErrorClass.MISSING_KEY,
    ErrorClass.BAD_REQUEST,
    ErrorClass.NOT_FOUND,
}


async def try_model(
    runtime: Runtime, info: ModelInfo, request: CompletionRequest, *, timeout_s: float | None = None
) -> Attempt:
    """Ask ``info``'s model once; never raises for provider failures, the outcome is in the returned attempt.

    ``timeout_s`` shortens the provider's timeout (never lengthens it), e.g. to finish within the client's own.
    """
    cached = runtime.cache.get(runtime.registry.identity(info.provider), info.id, request)
    if cached is not None:
        return Attempt(info, "ok", 0.0, completion=cached, cost_usd=0.0, priced=True, cache_hit=True)
    breaker = runtime.breakers[info.provider]
    if not breaker.allow():
        remaining = breaker.cooldown_remaining_s()
        error = f"circuit open for {info.provider!r} ({remaining:.0f} s left)"
        return Attempt(info, "circuit_open", 0.0, error=error, cost_usd=0.0)
    started = 0.0
    try:
        # Built (SDK imported) before the clock starts: the first call's latency is the provider's, not ours.
        provider = await _provider(runtime, info)
        started = time.perf_counter()
        completion = await _call(runtime, provider, info, request, timeout_s)
    except anyio.get_cancelled_exc_class():
        breaker.release_probe()  # a cancelled probe says nothing; without this the breaker would never probe again
        raise
    except ProviderError as exc:
        latency_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        # Error texts reach the store and the client: a provider may echo the key it was sent.
        error = runtime.registry.scrub(str(exc))
        if exc.error_class in _NOT_HEALTH:
            breaker.release_probe()
        else:
            breaker.record_failure(f"{exc.error_class.value}: {error}")
        runtime.record_error(info.provider, exc.error_class.value, f"{info.model}: {error}")
        cost = 0.0 if exc.error_class in _UNBILLED and not exc.maybe_billed else None
        return Attempt(
            info, exc.error_class.value, latency_ms, error=error, cost_usd=cost, retry_after_s=exc.retry_after_s
        )
    latency_ms = (time.perf_counter() - started) * 1000
    breaker.record_success()
    runtime.latency.observe(info.id, latency_ms)
    runtime.cache.put(runtime.registry.identity(info.provider), info.id, request, completion)
    cost = attempt_cost(info, completion)
    return Attempt(info, "ok", latency_ms, completion=completion, cost_usd=cost, priced=cost is not None)


async def _provider(runtime: Runtime, info: ModelInfo) -> Provider:
    built = runtime.registry.built(info.provider)
    if built is not None:
        return built
    try:
        # The first use imports the SDK (~0.5-2 s) and may read a .env file: not on the event loop.
        return await anyio.to_thread.run_sync(runtime.registry.get, info.provider)
    except ImportError as exc:
        raise ProviderError(ErrorClass.UNAVAILABLE, str(exc)) from exc


async def _call(
    runtime: Runtime, provider: Provider, info: ModelInfo, request: CompletionRequest, limit_s: float | None
) -> Completion:
    own_s = runtime.registry.timeout_for(info.provider, runtime.config.resilience.timeout_s)
    timeout_s = own_s if limit_s is None else min(own_s, limit_s)
    async with runtime.limiter:
        try:
            # Our deadline is the one that counts; the SDK's is a backstop a little later.
            with anyio.fail_after(timeout_s):
                return await provider.complete(info.model, request, timeout_s=timeout_s + 1)
        except TimeoutError as exc:
            if timeout_s < own_s:  # the client's tool timeout came first: the model was not given its time
                raise ProviderError(
                    ErrorClass.DEADLINE, f"cut at {timeout_s:g} s by the client's tool timeout", maybe_billed=True
                ) from exc
            raise ProviderError(ErrorClass.TIMEOUT, f"no answer within {timeout_s:g} s") from exc
