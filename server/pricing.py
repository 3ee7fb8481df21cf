"""What tokens cost, in USD: ``genai-prices`` data, or a price from the config file.

A model neither knows is *unpriced*: :func:`cost_usd` returns ``None``, never ``0.0``, so a sum of costs
can tell "free" from "unknown".

Token counts follow Anthropic's convention (the one Claude Code transcripts use): ``input_tokens`` are the
input tokens that were neither read from nor written to the prompt cache. A caller holding an OpenAI-style
``prompt_tokens`` (which include cached tokens) passes ``prompt_tokens - cached_tokens`` as ``input_tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, lru_cache

from genai_prices import Usage, calc_price
from genai_prices.data_snapshot import find_provider_by_id, get_snapshot
from genai_prices.types import ModelInfo, ModelPrice, TieredPrices, TimeOfDateConstraint

from server.config import ModelPrice as ConfigPrice

__all__ = ["LinePrices", "Rates", "cost_usd", "is_priced", "rates"]

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
    price: ConfigPrice, input_tokens: int, output_tokens: int, cache_read_tokens: int, cache_write_tokens: int
) -> float:
    cached_rate = price.cached_input_per_mtok if price.cached_input_per_mtok is not None else price.input_per_mtok
    # The config has no cache-write rate: such tokens are charged as plain input.
    total = (
        Decimal(str(price.input_per_mtok)) * (input_tokens + cache_write_tokens)
        + Decimal(str(price.output_per_mtok)) * output_tokens
        + Decimal(str(cached_rate)) * cache_read_tokens
    )
    return float(total / _PER_MTOK)


_TOKEN_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")
_NEVER_COUNTED = ("audio", "image", "video", "web_search", "reasoning", "search")
"""Price keys for units a transcript line never reports: their count is zero, so they add nothing."""

_Price = tuple[float, tuple[tuple[int, float], ...]]
"""USD per million tokens: the base rate and the long-context tiers (start, rate), highest first."""


@dataclass(frozen=True, slots=True)
class Rates:
    """One model's token prices on one day, resolved once and applied with plain arithmetic.

    Anthropic bills a request whose input (uncached + cache reads + cache writes) is over a tier's start
    wholly at that tier's rates; so does :meth:`cost`, as genai-prices does.
    """

    input: _Price
    output: _Price
    cache_read: _Price
    cache_write: _Price
    cache_write_1h: _Price
    per_request: float = 0.0

    def cost(
        self, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int, cache_write_1h: int
    ) -> float:
        """The USD cost of one response; ``cache_write_1h`` is the 1-hour part of ``cache_write``."""
        whole = input_tokens + cache_read + cache_write
        total = (
            _rate(self.input, whole) * input_tokens
            + _rate(self.output, whole) * output_tokens
            + _rate(self.cache_read, whole) * cache_read
            + _rate(self.cache_write, whole) * (cache_write - cache_write_1h)
            + _rate(self.cache_write_1h, whole) * cache_write_1h
        )
        return total / 1_000_000 + self.per_request


def _rate(price: _Price, whole: int) -> float:
    for start, rate in price[1]:
        if whole > start:
            return rate
    return price[0]


def _as_price(value: object) -> _Price | None:
    if value is None:
        return None
    if isinstance(value, TieredPrices):
        tiers = sorted(((t.start, float(t.price)) for t in value.tiers), reverse=True)
        return float(value.base), tuple(tiers)
    return (float(value), ()) if isinstance(value, Decimal) else None


def _local_rates(prices: ModelPrice) -> Rates | None:
    """The prices as :class:`Rates`, or None when a priced unit is beyond plain token arithmetic."""
    for key, value in prices.__dict__.items():
        if key.startswith("_") or value is None or key in _TOKEN_KEYS or key == "requests_kcount":
            continue
        if not any(part in key for part in _NEVER_COUNTED):
            return None
    found = {key: _as_price(getattr(prices, key)) for key in _TOKEN_KEYS}
    if any(found[key] is None and getattr(prices, key) is not None for key in _TOKEN_KEYS):
        return None
    input_price = found["input_mtok"] or (0.0, ())
    cache_write = found["cache_write_mtok"] or input_price
    per_request = prices.requests_kcount
    return Rates(
        input=input_price,
        output=found["output_mtok"] or (0.0, ()),
        cache_read=found["cache_read_mtok"] or input_price,
        cache_write=cache_write,
        cache_write_1h=found["cache_write_1h_mtok"] or cache_write,
        per_request=float(per_request) / 1000 if isinstance(per_request, Decimal) else 0.0,
    )


def _day_bound(info: ModelInfo) -> bool:
    """Whether the model's prices depend only on the date (not on the time of day, like off-peak rates)."""
    if isinstance(info.prices, ModelPrice):
        return all(not isinstance(v.constraint, TimeOfDateConstraint) for v in info.price_variants or ())
    conditions = [c.constraint for c in info.prices] + [v.constraint for v in info.price_variants or ()]
    return not any(isinstance(c, TimeOfDateConstraint) for c in conditions)


@lru_cache(maxsize=4096)
def rates(model: str, provider: str | None, day: date, context: tuple[tuple[str, str], ...] = ()) -> Rates | None:
    """The model's token prices on ``day`` (UTC), for responses with this price ``context`` (service tier, speed).

    Raises:
        LookupError: genai-prices does not know the model.
    """
    model_ref, provider_id = _split_model(model, provider)
    found, info = get_snapshot().find_provider_model(model_ref, None, provider_id, None)
    if not _day_bound(info):
        return None
    when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    in_provider = any(info is other for other in found.models)
    return _local_rates(info.get_prices(when, dict(context) if context and in_provider else None))


def _utc_day(when: datetime) -> date:
    """The UTC day of ``when`` (a naive time is taken as UTC)."""
    if when.tzinfo is UTC or when.tzinfo is None:
        return when.date()
    return when.astimezone(UTC).date()


def _context(service_tier: str | None, speed: str | None) -> tuple[tuple[str, str], ...]:
    context: list[tuple[str, str]] = []
    if service_tier:
        context.append(("service_tier", service_tier))
    if speed:
        context.append(("speed", speed))
    return tuple(context)


def cost_usd(
    model: str,
    *,
    provider: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
    service_tier: str | None = None,
    speed: str | None = None,
    override: ConfigPrice | None = None,
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
        cache_write_tokens: Input tokens written to the prompt cache (5-minute and 1-hour together).
        cache_write_1h_tokens: The part of ``cache_write_tokens`` written for one hour.
        service_tier: The response's service tier, where the provider prices tiers differently.
        speed: The response's speed (``fast``), where the provider prices it differently.
        override: USD per million tokens from the config file; wins over genai-prices.
        when: When the request was made (prices change over time); default now.

    Returns:
        The cost in USD, or None when the model is unpriced.
    """
    if override is not None:
        return _override_cost(override, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
    when = when or datetime.now(UTC)
    day = _utc_day(when)
    context = _context(service_tier, speed)
    try:
        found = rates(model, provider, day, context)
    except LookupError:
        return None
    if found is not None:
        return found.cost(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens)
    return _genai_cost(
        model,
        provider,
        when,
        context,
        input_tokens,
        output_tokens,
        cache_read_tokens,
        cache_write_tokens,
        cache_write_1h_tokens,
    )


_UNPRICED = object()
_GENAI = object()


class LinePrices:
    """:func:`cost_usd` for many responses of a few models (a transcript's), without a config override.

    What prices a response (the model's rates that day, or genai-prices itself for rates plain arithmetic cannot
    follow, or none) is found once per (model, day, service tier, speed). :func:`cost_usd` per line cost ~3 us
    with its keywords, the day's arithmetic and the cached lookup; 65,223 lines: 0.20 -> 0.10 s (with the line
    built again around its cost). Hypothesis holds the two equal.
    """

    def __init__(self, provider: str | None = None) -> None:
        self._provider = provider
        self._found: dict[tuple[str, date, str | None, str | None], object] = {}

    def cost(
        self,
        model: str,
        when: datetime | None,
        service_tier: str | None,
        speed: str | None,
        counts: tuple[int, int, int, int, int],
    ) -> float | None:
        """The response's cost; ``counts`` are input, output, cache read, cache write (all) and 1-hour write."""
        if when is None:
            when = datetime.now(UTC)
        day = _utc_day(when)
        key = (model, day, service_tier, speed)
        found = self._found.get(key)
        if found is None:
            try:
                found = rates(model, self._provider, day, _context(service_tier, speed)) or _GENAI
            except LookupError:
                found = _UNPRICED
            self._found[key] = found
        if isinstance(found, Rates):
            return found.cost(*counts)
        if found is _UNPRICED:
            return None
        return _genai_cost(model, self._provider, when, _context(service_tier, speed), *counts)


def _genai_cost(
    model: str,
    provider: str | None,
    when: datetime,
    context: tuple[tuple[str, str], ...],
    *counts: int,
) -> float | None:
    """genai-prices' own calculation, for prices plain token arithmetic cannot follow (time-of-day rates)."""
    input_tokens, output_tokens, cache_read, cache_write, cache_write_1h = counts
    model_ref, provider_id = _split_model(model, provider)
    # genai-prices counts cached tokens inside input_tokens.
    usage = Usage(
        input_tokens=input_tokens + cache_read + cache_write,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        cache_write_1h_tokens=cache_write_1h,
    )
    try:
        calculation = calc_price(
            usage, model_ref, provider_id=provider_id, genai_request_timestamp=when, price_context=dict(context) or None
        )
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
