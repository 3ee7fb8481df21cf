"""server.pricing against prices worked out by hand from Anthropic's published rates."""

from __future__ import annotations

import pytest

from server.config import ModelPrice
from server.pricing import cost_usd, is_priced

# claude-haiku-4-5: $1 input, $5 output, $0.10 cache read, $1.25 cache write, per million tokens.
HAIKU = "claude-haiku-4-5-20251001"


def test_known_claude_model_costs_its_published_rates_per_token_kind() -> None:
    cost = cost_usd(HAIKU, input_tokens=1_000, output_tokens=2_000, cache_read_tokens=10_000, cache_write_tokens=4_000)
    # 1,000 x $1 + 2,000 x $5 + 10,000 x $0.10 + 4,000 x $1.25 = $17,000 per million tokens.
    assert cost == pytest.approx(0.017)


def test_input_tokens_exclude_cached_tokens_as_in_claude_code_transcripts() -> None:
    only_cache = cost_usd(HAIKU, cache_read_tokens=1_000_000)
    assert only_cache == pytest.approx(0.10)


def test_provider_prefix_and_explicit_provider_give_the_same_price() -> None:
    plain = cost_usd(HAIKU, input_tokens=500, output_tokens=100)
    assert cost_usd(f"anthropic:{HAIKU}", input_tokens=500, output_tokens=100) == plain
    assert cost_usd(HAIKU, provider="anthropic", input_tokens=500, output_tokens=100) == plain
    assert plain == pytest.approx((500 * 1 + 100 * 5) / 1e6)


def test_unknown_model_is_unpriced_not_free() -> None:
    assert cost_usd("switchboard-imaginary-model-9", input_tokens=1_000, output_tokens=1_000) is None
    assert not is_priced("switchboard-imaginary-model-9")
    assert is_priced(HAIKU)


def test_provider_unknown_to_genai_prices_falls_back_to_the_model_name() -> None:
    assert cost_usd(HAIKU, provider="my-proxy", input_tokens=1_000_000) == pytest.approx(1.0)


def test_config_override_wins_over_genai_prices() -> None:
    price = ModelPrice(input_per_mtok=2.0, output_per_mtok=8.0, cached_input_per_mtok=0.5)
    cost = cost_usd(HAIKU, input_tokens=1_000_000, output_tokens=500_000, cache_read_tokens=2_000_000, override=price)
    assert cost == pytest.approx(2.0 + 4.0 + 1.0)


def test_override_prices_an_otherwise_unknown_model_and_zero_rates_mean_free() -> None:
    free = ModelPrice(input_per_mtok=0, output_per_mtok=0)
    assert cost_usd("local:qwen2.5-coder:7b", input_tokens=10_000, output_tokens=10_000, override=free) == 0.0


def test_override_without_cached_rate_charges_cached_tokens_as_input() -> None:
    price = ModelPrice(input_per_mtok=4.0, output_per_mtok=0.0)
    assert cost_usd("x", cache_read_tokens=250_000, cache_write_tokens=250_000, override=price) == pytest.approx(2.0)
