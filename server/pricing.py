"""What tokens cost, in USD: ``genai-prices`` data, or a price from the config file.

A model neither knows is *unpriced*: :func:`cost_usd` returns ``None``, never ``0.0``, so a sum of costs
can tell "free" from "unknown".

Token counts follow Anthropic's convention (the one Claude Code transcripts use): ``input_tokens`` are the
input tokens that were neither read from nor written to the prompt cache. A caller holding an OpenAI-style
``prompt_tokens`` (which include cached tokens) passes ``prompt_tokens - cached_tokens`` as ``input_tokens``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache

from genai_prices import Usage, calc_price
from genai_prices.data_snapshot import find_provider_by_id, get_snapshot

from server.config import ModelPrice

__all__ = ["cost_usd", "is_priced"]

_PER_MTOK = Decimal(1_000_000)


@cache  # the price snapshot is fixed for the process (no auto-update: no network); a lookup cost ~0.3 ms a call
def _known_provider(provider: str | None) -> str | None:
    """``provider`` if genai-prices has prices for it; otherwise None, so the model alone is looked up."""
    if provider is None:
        return None
    return provider if find_provider_by_id(get_snapshot().providers, provider) else None


def _split_model(model: str, provider: str | None) -> tuple[str, str | None]:
    """Accept ``provider:model`` ids; ``qwen2.5-coder:7b`` stays whole as its prefix is no provider."""
    prefix, sep, rest = model.partition(":")
    if sep and provider is None and rest and _known_provider(prefix):
        return rest, prefix
    return model, _known_provider(provider)


def _override_cost(
    price: ModelPrice, input_tokens: int, output_tokens: int, cache_read_tokens: int, cache_write_tokens: int
) -> float:
    cached_rate = price.cached_input_per_mtok if price.cached_input_per_mtok is not None else price.input_per_mtok
    # The config has no cache-write rate: such tokens are charged as plain input.
    total = (
        Decimal(str(price.input_per_mtok)) * (input_tokens + cache_write_tokens)
        + Decimal(str(price.output_per_mtok)) * output_tokens
        + Decimal(str(cached_rate)) * cache_read_tokens
    )
    return float(total / _PER_MTOK)


def cost_usd(
    model: str,
    *,
    provider: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    override: ModelPrice | None = None,
    when: datetime | None = None,
) -> float | None:
    """The USD cost of one model response, or None when the model has no known price.

    Args:
        model: The model id, e.g. ``claude-sonnet-4-5-20250929``; ``provider:model`` is accepted too.
        provider: A genai-prices provider id (``anthropic``, ``openai``, ``groq``...); an id it does not
            know is ignored and the model is looked up by name alone.
        input_tokens: Input tokens not read from or written to the prompt cache (Anthropic semantics).
        output_tokens: Output tokens.
        cache_read_tokens: Input tokens read from the prompt cache.
        cache_write_tokens: Input tokens written to the prompt cache.
        override: USD per million tokens from the config file; wins over genai-prices.
        when: When the request was made (prices change over time); default now.

    Returns:
        The cost in USD, or None when the model is unpriced.
    """
    if override is not None:
        return _override_cost(override, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
    model_ref, provider_id = _split_model(model, provider)
    # genai-prices counts cached tokens inside input_tokens.
    usage = Usage(
        input_tokens=input_tokens + cache_read_tokens + cache_write_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read_tokens,
        cache_write_tokens=cache_write_tokens,
    )
    try:
        calculation = calc_price(usage, model_ref, provider_id=provider_id, genai_request_timestamp=when)
    except LookupError:
        return None
    return float(calculation.total_price)


def is_priced(model: str, provider: str | None = None) -> bool:
    """Whether :func:`cost_usd` knows a price for ``model`` (without a config override)."""
    model_ref, provider_id = _split_model(model, provider)
    try:
        get_snapshot().find_provider_model(model_ref.lower(), None, provider_id, None)
    except LookupError:
        return False
    return True
